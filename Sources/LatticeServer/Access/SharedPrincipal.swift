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
}
