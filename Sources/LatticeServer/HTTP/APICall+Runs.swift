import Foundation
import LatticeAuth
import LatticeCRDT
import LatticeRuns
import LatticeStreams
import NIOCore
import NIOHTTP1

/// Runs over REST (docs/api.md, "Runs"): members list and watch them, editors start, cancel and
/// decide them. The same commands as lattice.v1's `run.start`, `run.cancel`, `run.approve`.
extension APICall {
    static func apiError(_ error: RunCommandError) -> APIError {
        var api: APIError
        switch error.kind {
        case .notFound: api = .notFound(error.message)
        case .invalid: api = .unprocessable(error.message)
        case .badRequest: api = .badRequest(error.message)
        case .conflict: api = .conflict(error.message)
        case .internalError: api = .internalError(error.message)
        }
        api.code = error.code
        if case .invalidDefinition(let errors) = error { api.details = invalid(errors).details }
        return api
    }

    /// A run the caller may act on with `permission`; 404 for a run it cannot read.
    func accessibleRun(_ id: String, _ p: Principal, _ permission: Permission, _ what: String) throws -> String {
        let runs = try runService()
        guard let workspace = runs.workspace(ofRun: id), Policy.can(p, .read, in: workspace) else {
            throw APIError.notFound("no run \(id)")
        }
        try require(p, permission, in: workspace, what, target: id)
        return workspace
    }

    /// `GET /api/workspaces/{ws}/runs?status=a,b&definition=&before=&limit=` (members): newest
    /// first; `next` is the `before` of the next page (null on the last).
    func listRuns(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .read, in: ws, "read the runs of \(ws)")
        _ = try await existingWorkspace(ws)
        var statuses: [RunStatus] = []
        for name in (request.query["status"] ?? "").split(separator: ",") {
            guard let status = RunStatus(rawValue: String(name)) else {
                throw APIError.badRequest("unknown status \(name); use \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            statuses.append(status)
        }
        let limit = try queryInt("limit", default: 50, in: 1...500)
        let query = RunQuery(workspace: ws, statuses: statuses, definitionID: request.query["definition"].flatMap { $0.isEmpty ? nil : $0 },
                             before: request.query["before"].flatMap { $0.isEmpty ? nil : $0 }, limit: limit)
        let page: [RunRecord]
        do { page = try await runService().store.runs(query) } catch let error as RunStoreError { throw Self.apiError(error) }
        let next: JSONValue = page.count == limit ? page.last.map { .string($0.id) } ?? .null : .null
        return .json(.ok, .object([("runs", .array(page.map { .raw($0.json) })), ("next", next)]))
    }

    /// `POST /api/workspaces/{ws}/runs` `{"definition","version"?,"inputs"?,"key"?}` (editors):
    /// 201 with the queued run, or 200 with the run an earlier start with the same key made.
    func startRun(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .write, in: ws, "start runs in \(ws)")
        _ = try await existingWorkspace(ws)
        let body = try runCommandBody()
        guard case .string(let definition)? = body["definition"] else { throw APIError.badRequest("definition is required (a definition id)") }
        let version: Int?
        switch body["version"] {
        case nil, .null?: version = nil
        case .int(let v)? where v >= 1: version = Int(v)
        default: throw APIError.badRequest("version must be a positive integer")
        }
        let inputs = body["inputs"] ?? .object([:])
        let key: String?
        switch body["key"] {
        case nil, .null?: key = nil
        case .string(let k)? where !k.isEmpty && k.utf8.count <= 200: key = k
        default: throw APIError.badRequest("key must be a string of 1 to 200 bytes")
        }
        let started: (record: RunRecord, isNew: Bool)
        do {
            started = try await runService().start(RunStartRequest(workspace: ws, definitionID: definition, version: version,
                                                                   inputs: inputs, actor: p.user.id, key: key, actorName: p.actor.name,
                                                                   actorKind: p.actor.kind.rawValue))
        } catch let error as RunCommandError { throw Self.apiError(error) }
        if started.isNew {
            access.audit("run.start", actor: p.user.id, workspace: ws, target: started.record.id, detail: definition,
                         address: request.remoteAddress)
        }
        return .json(started.isNew ? .created : .ok, .object([("run", .raw(started.record.json))]))
    }

    /// `GET /api/runs/{id}` (members of its workspace): the run's row, with its nodes and outputs.
    func getRun(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        _ = try accessibleRun(id, p, .read, "read run \(id)")
        let record: RunRecord?
        do { record = try await runService().store.run(id: id) } catch let error as RunStoreError { throw Self.apiError(error) }
        guard let record else { throw APIError.notFound("no run \(id)") }
        return .json(.ok, .object([("run", .raw(record.json))]))
    }

    /// `POST /api/runs/{id}/cancel` `{"reason"?}` (editors).
    func cancelRun(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        let ws = try accessibleRun(id, p, .write, "cancel run \(id)")
        let body = try runCommandBody()
        let reason: String
        switch body["reason"] {
        case nil, .null?: reason = "no reason given"
        case .string(let r)? where r.utf8.count <= 1000: reason = r
        default: throw APIError.badRequest("reason must be a string of at most 1000 bytes")
        }
        let record: RunRecord
        do { record = try await runService().executor.cancel(run: id, reason: reason, by: p.user.id) } catch let error as RunCommandError {
            throw Self.apiError(error)
        }
        access.audit("run.cancel", actor: p.user.id, workspace: ws, target: id, detail: reason, address: request.remoteAddress)
        return .json(.ok, .object([("run", .raw(record.json))]))
    }

    /// `POST /api/runs/{id}/approve` `{"approved":bool,"node"?,"comment"?}` (editors): of two
    /// concurrent decisions on one approval, one wins and the other is answered 409 `conflict`.
    func decideRun(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        let ws = try accessibleRun(id, p, .write, "decide on run \(id)")
        let body = try runCommandBody()
        guard case .bool(let approved)? = body["approved"] else { throw APIError.badRequest("approved is required (true or false)") }
        let node: String?, comment: String?
        switch body["node"] {
        case nil, .null?: node = nil
        case .string(let n)?: node = n
        default: throw APIError.badRequest("node must be a node id")
        }
        switch body["comment"] {
        case nil, .null?: comment = nil
        case .string(let c)? where c.utf8.count <= 4000: comment = c
        default: throw APIError.badRequest("comment must be a string of at most 4000 bytes")
        }
        let record: RunRecord
        do {
            record = try await runService().executor.decide(run: id, node: node, approved: approved, by: p.user.id, comment: comment)
        } catch let error as RunCommandError { throw Self.apiError(error) }
        access.audit("run.decide", actor: p.user.id, workspace: ws, target: id, detail: approved ? "approved" : "rejected",
                     address: request.remoteAddress)
        return .json(.ok, .object([("run", .raw(record.json))]))
    }

    /// `GET /api/runs/{id}/events?after=&limit=` (members): the run's stored events by offset,
    /// the same page as `GET /api/streams/run/{id}/events`.
    func runEvents(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        _ = try accessibleRun(id, p, .read, "read run \(id)")
        let page = try await storedPage(of: "run/\(id)")
        let items: [JSONValue] = page.events.map { event in
            .object([("offset", .int(Int64(event.offset))), ("event", .raw(String(buffer: event.data)))])
        }
        let next = page.events.last?.offset ?? page.after
        return .json(.ok, .object(page.headFields + [("events", .array(items)), ("next", .int(Int64(next)))]))
    }

    /// A run command's body as JSON values (inputs keep their exact numbers and nesting).
    func runCommandBody() throws -> [String: Value] {
        let text = String(decoding: request.body, as: UTF8.self)
        if text.allSatisfy(\.isWhitespace) { return [:] }
        guard case .object(let object)? = try? Value.parseJSON(text) else { throw APIError.badRequest("the body must be a JSON object") }
        return object
    }
}
