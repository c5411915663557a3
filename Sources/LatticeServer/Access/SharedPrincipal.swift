import Foundation
import LatticeAuth
import Synchronization

/// The principal of one token, shared by every live session that authenticated with it: the
/// identity is kept once per token, not once per connection (a bot or a browser with many
/// connections costs one), and a role change is applied once for all of them.
final class SharedPrincipal: Sendable {
    let tokenID: String
    let userID: String
    private let value: Mutex<Principal>

    init(_ principal: Principal) {
        self.tokenID = principal.tokenID
        self.userID = principal.user.id
        self.value = Mutex(principal)
    }

    /// The current value (a copy: its strings and collections are shared, not duplicated).
    var current: Principal { value.withLock { $0 } }

    func setRoles(_ roles: [String: Role]) {
        value.withLock { $0.roles = roles }
    }

    /// The user record and roles as the store has them now (admin flag, name, memberships).
    func update(user: User, roles: [String: Role]) {
        value.withLock {
            $0.user = user
            $0.roles = roles
        }
    }

    /// When the token stops being valid (nil: never).
    var expiresAt: Date? {
        get { value.withLock { $0.tokenExpiresAt } }
    }

    func setExpiry(_ date: Date?) {
        value.withLock { $0.tokenExpiresAt = date }
    }
}
