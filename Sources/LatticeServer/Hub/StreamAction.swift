import LatticeAuth

/// What a connection wants to do on a stream, and the permission it needs (docs/security.md).
public enum StreamAction: String, Sendable, Hashable {
    case subscribe
    case publish
    case presence

    var permission: Permission {
        switch self {
        case .subscribe: .read
        case .publish: .write
        case .presence: .presence
        }
    }
}
