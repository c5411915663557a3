/// A member's role in a workspace. Ordered: every role can do what the roles below it can.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// Subscribes to the workspace's streams, reads history, sets presence.
    case viewer
    /// And publishes, edits documents and the graph, starts and cancels runs.
    case editor
    /// And manages members, invitations and reads the audit log.
    case owner

    var rank: Int {
        switch self {
        case .viewer: 0
        case .editor: 1
        case .owner: 2
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}
