import LatticeProtocol

/// What a connection wants to do on a stream.
public enum StreamAction: String, Sendable, Hashable {
    case subscribe
    case publish
    case presence
}

/// The one seam every subscribe, publish and presence call goes through. Called on the
/// session's event loop; must answer promptly (no I/O). A refusal is answered `forbidden`.
public protocol Authorizer: Sendable {
    func authorize(_ identity: Identity, _ action: StreamAction, _ stream: StreamName) -> Bool
}

/// Allows everything (until the authentication issue replaces it).
public struct AllowAllAuthorizer: Authorizer {
    public init() {}
    public func authorize(_ identity: Identity, _ action: StreamAction, _ stream: StreamName) -> Bool { true }
}
