import Foundation
import NIOCore
import NIOHTTP1
import LatticeAuth
import LatticeProtocol
import LatticeStreams

/// Renaming a workspace, and reading its activity (`workspace/{ws}`, docs/api.md).
extension APICall {
    /// `PATCH /api/workspaces/{ws}` with `{"name": …}` (owners): `workspace.renamed` activity.
    func renameWorkspace(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .manageMembers, in: ws, "rename workspace \(ws)")
        let name = try body().requiredString("name")
        if let problem = Validation.displayName(name) { throw APIError.badRequest(problem) }
        guard let workspace = try await store.renameWorkspace(id: ws, name: name, by: p.actor) else {
            throw APIError.notFound("no workspace \(ws)")
        }
        access.audit("workspace.rename", actor: p.user.id, workspace: ws, target: ws, detail: name, address: request.remoteAddress)
        return .json(.ok, .object([("workspace", RecordJSON.workspace(workspace, role: p.role(in: ws)))]))
    }

    /// `GET /api/workspaces/{ws}/activity?after=&limit=` (members): the workspace's activity
    /// events from the store, oldest first, with the offset to read on from.
    func readActivity(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .read, in: ws, "read the activity of \(ws)")
        _ = try await existingWorkspace(ws)
        let page = try await storedPage(of: "workspace/\(ws)")
        let items: [JSONValue] = page.events.map { event in
            .object([("offset", .int(Int64(event.offset))), ("activity", .raw(String(buffer: event.data)))])
        }
        let next = page.events.last?.offset ?? page.after
        return .json(.ok, .object(page.headFields + [("events", .array(items)), ("next", .int(Int64(next)))]))
    }
}
