import Foundation
import LatticeAuth
import LatticeCRDT
import LatticeRuns
import NIOHTTP1

/// Workflow definitions over REST (docs/api.md, "Definitions"): members read them, editors
/// create, edit (each edit a new version), delete, validate and import them.
extension APICall {
    func runService() throws -> RunService {
        guard let runs else { throw APIError.notFound("this server runs no workflows") }
        return runs
    }

    /// The request body as a definition, every shape and graph problem reported at once (422).
    func definitionBody() throws -> WorkflowDefinition {
        let text = String(decoding: request.body, as: UTF8.self)
        let definition: WorkflowDefinition
        do { definition = try WorkflowDefinition(json: text) } catch {
            throw Self.invalid(error.errors)
        }
        let problems = DefinitionValidator.validate(definition)
        guard problems.isEmpty else { throw Self.invalid(problems) }
        return definition
    }

    /// Event triggers watch channels of the definition's own workspace only.
    static func checkTriggers(_ definition: WorkflowDefinition, workspace: String) throws {
        var problems: [DefinitionError] = []
        for (index, trigger) in definition.triggers.enumerated() {
            guard case .event(let stream, _, _) = trigger else { continue }
            let owner = stream.split(separator: "/", omittingEmptySubsequences: false).dropFirst().first.map(String.init)
            if owner != workspace {
                problems.append(DefinitionError(code: .badTrigger, path: "triggers[\(index)].stream",
                                                message: "an event trigger watches a channel of its own workspace (\(workspace)), not \(stream)"))
            }
        }
        if !problems.isEmpty { throw invalid(problems) }
    }

    static func invalid(_ errors: [DefinitionError]) -> APIError {
        let list: [JSONValue] = errors.map { error in
            .object([("code", .string(error.code.rawValue)), ("node", .optional(error.node)),
                     ("path", .string(error.path)), ("message", .string(error.message))])
        }
        let first = errors.first.map { ": \($0.message)" } ?? ""
        return .unprocessable("the definition has \(errors.count) problem\(errors.count == 1 ? "" : "s")\(first)", details: .array(list))
    }

    static func definitionJSON(_ stored: StoredDefinition) -> JSONValue {
        .object([
            ("id", .string(stored.id)), ("workspace", .string(stored.workspace)), ("version", .int(Int64(stored.version))),
            ("name", .string(stored.definition.name)), ("author", .string(stored.author)), ("createdAt", .int(stored.createdAt)),
            ("deletedAt", stored.deletedAt.map(JSONValue.int) ?? .null), ("definition", .raw(stored.definition.json)),
        ])
    }

    static func apiError(_ error: RunStoreError) -> APIError {
        switch error {
        case .definitionNotFound(let id): .notFound("no definition \(id)")
        case .versionConflict(let expected, let newest): .conflict("version \(expected) is not the newest; the newest is \(newest)")
        case .definitionExists(let id): .conflict("definition \(id) already exists")
        case .storeFailed(let why): .internalError("store failed: \(why)")
        }
    }

    /// A definition the caller may read (`permission` in its workspace), or 404 for one that
    /// does not exist or (to a non-member) might not.
    func readableDefinition(_ id: String, version: Int? = nil, _ p: Principal, _ permission: Permission,
                            _ what: String) async throws -> StoredDefinition {
        let runs = try runService()
        let stored: StoredDefinition?
        do { stored = try await runs.store.definition(id: id, version: version) } catch { throw Self.apiError(error) }
        guard let stored, Policy.can(p, .read, in: stored.workspace) else {
            throw APIError.notFound(version.map { "no version \($0) of definition \(id)" } ?? "no definition \(id)")
        }
        try require(p, permission, in: stored.workspace, what, target: id)
        return stored
    }

    /// `GET /api/workspaces/{ws}/definitions` (members): the newest version of each.
    func listDefinitions(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .read, in: ws, "read the definitions of \(ws)")
        _ = try await existingWorkspace(ws)
        let all: [StoredDefinition]
        do { all = try await runService().store.definitions(workspace: ws) } catch let error as RunStoreError { throw Self.apiError(error) }
        return .json(.ok, .object([("definitions", .array(all.map(Self.definitionJSON)))]))
    }

    /// `POST /api/workspaces/{ws}/definitions` (editors): a new definition, version 1. The body
    /// is the definition (an exported one too: `format` is accepted).
    func createDefinition(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .write, in: ws, "create definitions in \(ws)")
        _ = try await existingWorkspace(ws)
        let definition = try definitionBody()
        try Self.checkTriggers(definition, workspace: ws)
        let stored: StoredDefinition
        do {
            stored = try await runService().store.createDefinition(id: nil, workspace: ws, definition: definition,
                                                                   author: p.user.id, at: RunService.now(),
                                                                   activity: RunActivity.definition(.definitionCreated, by: p.actor))
        } catch let error as RunStoreError { throw Self.apiError(error) }
        try runService().definitionChanged(stored)
        access.audit("definition.create", actor: p.user.id, workspace: ws, target: stored.id, detail: definition.name,
                     address: request.remoteAddress)
        return .json(.created, .object([("definition", Self.definitionJSON(stored))]))
    }

    /// `POST /api/workspaces/{ws}/definitions/validate` (members): the problems, stored nothing.
    func validateDefinition(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .read, in: ws, "validate definitions in \(ws)")
        do {
            _ = try definitionBody()
        } catch let error as APIError where error.details != nil {
            return .json(.ok, .object([("valid", .bool(false)), ("errors", error.details ?? .array([]))]))
        }
        return .json(.ok, .object([("valid", .bool(true)), ("errors", .array([]))]))
    }

    /// `?version=N`: a positive integer, or nil when absent.
    func queryVersion() throws -> Int? {
        try request.query["version"].map { raw in
            guard let version = Int(raw), version >= 1 else { throw APIError.badRequest("version must be a positive integer") }
            return version
        }
    }

    /// `GET /api/definitions/{id}?version=` (members of its workspace).
    func getDefinition(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        let version = try queryVersion()
        let stored = try await readableDefinition(id, version: version, p, .read, "read definition \(id)")
        return .json(.ok, .object([("definition", Self.definitionJSON(stored))]))
    }

    /// `GET /api/definitions/{id}/export?version=`: the definition's JSON with its format tag,
    /// as a file to import elsewhere.
    func exportDefinition(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        let version = try queryVersion()
        let stored = try await readableDefinition(id, version: version, p, .read, "export definition \(id)")
        return .json(.ok, .raw(stored.definition.exportJSON),
                     headers: ["Content-Disposition": "attachment; filename=\"\(stored.id).workflow.json\""])
    }

    /// `GET /api/definitions/{id}/versions` (members): every version, oldest first.
    func definitionVersions(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        _ = try await readableDefinition(id, p, .read, "read definition \(id)")
        let all: [StoredDefinition]
        do { all = try await runService().store.versions(of: id) } catch let error as RunStoreError { throw Self.apiError(error) }
        return .json(.ok, .object([("versions", .array(all.map(Self.definitionJSON)))]))
    }

    /// `PUT /api/definitions/{id}` (editors): the next version. `If-Match: <version>` refuses
    /// the edit (409) unless that version is still the newest.
    func updateDefinition(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        let current = try await readableDefinition(id, p, .write, "edit definition \(id)")
        guard current.deletedAt == nil else { throw APIError.notFound("no definition \(id)") }
        let expected = try request.head.headers.first(name: "If-Match").map { raw in
            guard let version = Int(raw.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))), version >= 1 else {
                throw APIError.badRequest("If-Match must be a version number")
            }
            return version
        }
        let definition = try definitionBody()
        try Self.checkTriggers(definition, workspace: current.workspace)
        let stored: StoredDefinition
        do {
            stored = try await runService().store.updateDefinition(id: id, definition: definition, expectedVersion: expected,
                                                                   author: p.user.id, at: RunService.now(),
                                                                   activity: RunActivity.definition(.definitionUpdated, by: p.actor))
        } catch let error as RunStoreError { throw Self.apiError(error) }
        try runService().definitionChanged(stored)
        access.audit("definition.update", actor: p.user.id, workspace: stored.workspace, target: id,
                     detail: "version \(stored.version)", address: request.remoteAddress)
        return .json(.ok, .object([("definition", Self.definitionJSON(stored))]))
    }

    /// `DELETE /api/definitions/{id}` (editors): no new runs; its versions stay for the runs
    /// that pinned them.
    func deleteDefinition(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        let current = try await readableDefinition(id, p, .write, "delete definition \(id)")
        guard current.deletedAt == nil else { throw APIError.notFound("no definition \(id)") }
        do {
            try await runService().store.deleteDefinition(id: id, at: RunService.now(),
                                                          activity: RunActivity.definition(.definitionDeleted, by: p.actor))
        } catch let error as RunStoreError {
            throw Self.apiError(error)
        }
        try runService().definitionDeleted(id)
        access.audit("definition.delete", actor: p.user.id, workspace: current.workspace, target: id, address: request.remoteAddress)
        return .json(.ok, .object([("deleted", .string(id))]))
    }
}
