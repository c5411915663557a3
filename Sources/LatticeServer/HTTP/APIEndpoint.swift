import Foundation
import NIOHTTP1

/// The `/api/…` paths, matched from the path's segments (each percent-decoded). Pure, so the
/// routing table is tested without a server.
enum APIEndpoint: Equatable, Sendable {
    case me
    case users
    case workspaces
    case workspace(String)
    case members(String)
    case member(String, user: String)
    case tokens
    case token(String)
    case workspaceInvitations(String)
    case invitation(String)
    case acceptInvitation
    case workspaceAudit(String)
    case audit
    case channel(String, name: String)
    /// `/api/streams/{stream...}/events`: the stream name may contain slashes.
    case streamEvents(String)
    /// `/api/stats`: live sessions and loaded streams (admins).
    case stats

    /// The endpoint of an `/api/…` path, or nil (404).
    static func match(path: String) -> APIEndpoint? {
        guard let segments = segments(of: path), segments.first == "api" else { return nil }
        let s = Array(segments.dropFirst())
        switch s.count {
        case 1:
            switch s[0] {
            case "me": return .me
            case "users": return .users
            case "workspaces": return .workspaces
            case "tokens": return .tokens
            case "audit": return .audit
            case "stats": return .stats
            default: return nil
            }
        case 2:
            switch s[0] {
            case "workspaces": return .workspace(s[1])
            case "tokens": return .token(s[1])
            case "invitations": return s[1] == "accept" ? .acceptInvitation : .invitation(s[1])
            default: break
            }
        case 3 where s[0] == "workspaces":
            switch s[2] {
            case "members": return .members(s[1])
            case "invitations": return .workspaceInvitations(s[1])
            case "audit": return .workspaceAudit(s[1])
            default: return nil
            }
        case 4 where s[0] == "workspaces":
            switch s[2] {
            case "members": return .member(s[1], user: s[3])
            case "channels": return .channel(s[1], name: s[3])
            default: return nil
            }
        default:
            break
        }
        if s.count >= 3, s[0] == "streams", s.last == "events" {
            return .streamEvents(s[1..<(s.count - 1)].joined(separator: "/"))
        }
        return nil
    }

    /// The methods the endpoint takes (405 lists them in `Allow`).
    var methods: [HTTPMethod] {
        switch self {
        case .me, .workspace, .members, .workspaceAudit, .audit, .streamEvents, .stats: [.GET]
        case .users, .workspaces, .tokens, .workspaceInvitations: [.GET, .POST]
        case .member: [.PUT, .DELETE]
        case .token, .invitation: [.DELETE]
        case .acceptInvitation: [.POST]
        case .channel: [.PUT]
        }
    }

    /// The path split at `/`, every segment percent-decoded; nil for an empty segment
    /// (`//`, a trailing slash) or bad percent-encoding.
    static func segments(of path: String) -> [String]? {
        guard path.hasPrefix("/") else { return nil }
        var out: [String] = []
        for raw in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard !raw.isEmpty, let decoded = raw.removingPercentEncoding, !decoded.isEmpty, !decoded.contains("/") else { return nil }
            out.append(decoded)
        }
        return out
    }
}
