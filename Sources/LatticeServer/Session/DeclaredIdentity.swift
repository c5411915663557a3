import Foundation
import LatticeProtocol

/// Who a connection says it is, from the upgrade URL: `/ws?name=alice&kind=user|bot`.
/// (Client-declared until the authentication issue; the `Authorizer` seam sees it.)
struct DeclaredIdentity: Sendable, Equatable {
    static let maxNameBytes = 64

    var name: String?
    var kind: Identity.Kind

    /// Parses the request URI's query; `nil` name means "anonymous". Returns an error text for
    /// a bad `kind` or a name that is empty, too long or has control characters.
    static func parse(uri: String) -> Result<DeclaredIdentity, InvalidIdentity> {
        guard let query = uri.firstIndex(of: "?").map({ String(uri[uri.index(after: $0)...]) }), !query.isEmpty else {
            return .success(DeclaredIdentity(name: nil, kind: .user))
        }
        var components = URLComponents()
        components.percentEncodedQuery = query
        var identity = DeclaredIdentity(name: nil, kind: .user)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "name":
                let name = item.value ?? ""
                guard !name.isEmpty, name.utf8.count <= maxNameBytes,
                      !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    return .failure(InvalidIdentity(reason: "name must be 1 to \(maxNameBytes) bytes without control characters"))
                }
                identity.name = name
            case "kind":
                guard let kind = item.value.flatMap(Identity.Kind.init(rawValue:)) else {
                    return .failure(InvalidIdentity(reason: "kind must be 'user' or 'bot'"))
                }
                identity.kind = kind
            default:
                continue
            }
        }
        return .success(identity)
    }

    /// The identity of session `session`: one presence member per name.
    func identity(session: String) -> Identity {
        let name = self.name ?? "anonymous-\(session)"
        return Identity(id: name, name: name, kind: kind)
    }
}

struct InvalidIdentity: Error, Sendable {
    var reason: String
}
