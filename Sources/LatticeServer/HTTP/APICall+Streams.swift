import NIOHTTP1
import NIOCore
import Foundation
import LatticeAuth
import LatticeProtocol
import LatticeStreams

/// The audit log, channel durability and durable stream history.
extension APICall {
    func readAudit(workspace ws: String?, _ p: Principal) async throws -> HTTPResponse {
        if let ws {
            try require(p, .readAudit, in: ws, "read the audit log of \(ws)")
        } else {
            try require(Policy.can(p, .readAllAudit), p, "read the server's audit log")
        }
        let limit = try queryInt("limit", default: 100, in: 1...1000)
        let before = try request.query["before"].flatMap { raw -> Int64? in
            guard !raw.isEmpty else { return nil }
            guard let id = Int64(raw), id > 0 else { throw APIError.badRequest("before must be a positive entry id") }
            return id
        }
        let entries = try await store.audit(workspaceID: ws, limit: limit, beforeID: before)
        return .json(.ok, .object([("entries", .array(entries.map(RecordJSON.audit))),
                                   ("next", entries.count == limit ? entries.last.map { .int($0.id) } ?? .null : .null)]))
    }

    func setChannel(_ ws: String, _ name: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .manageMembers, in: ws, "configure channels of \(ws)")
        if let problem = Validation.segment(name, what: "a channel name") { throw APIError.badRequest(problem) }
        _ = try await existingWorkspace(ws)
        let fields = try body()
        let durable = try fields.bool("durable")
        let coalescing = try fields.bool("coalescing")
        guard durable != nil || coalescing != nil else {
            throw APIError.badRequest("durable or coalescing (true or false) is required")
        }
        if durable == true, coalescing == true {
            throw APIError.badRequest("a channel is durable or coalescing, not both")
        }
        let stream = "channel/\(ws)/\(name)"
        // Clear first, then set: marking one class removes the other mark.
        if durable == false { try await services.setChannelDurable(ws, name, false, p.actor) }
        if coalescing == false { try await services.setChannelCoalescing(ws, name, false, p.actor) }
        if durable == true { try await services.setChannelDurable(ws, name, true, p.actor) }
        if coalescing == true { try await services.setChannelCoalescing(ws, name, true, p.actor) }
        // A channel already loaded with another class is reloaded: its subscribers are told.
        hub?.reclassify(stream)
        let isDurable = services.isDurableChannel(stream)
        let isCoalescing = services.isCoalescingChannel(stream)
        let streamClass = isDurable ? "durable" : isCoalescing ? "coalescing" : "ephemeral"
        access.audit(durable != nil ? "channel.durable" : "channel.coalescing", actor: p.user.id, workspace: ws, target: stream,
                     detail: streamClass, address: request.remoteAddress)
        return .json(.ok, .object([("stream", .string(stream)), ("durable", .bool(isDurable)),
                                   ("coalescing", .bool(isCoalescing)), ("class", .string(streamClass))]))
    }

    /// History of a durable stream from the store: events with offsets `after + 1 …`.
    func streamEvents(_ name: String, _ p: Principal) async throws -> HTTPResponse {
        let stream: StreamName
        switch StreamName.parse(name) {
        case .success(let parsed): stream = parsed
        case .failure(let error): throw APIError.badRequest("bad stream name: \(error.message)")
        }
        guard let ws = access.workspace(of: stream) else { throw APIError.notFound("no stream \(name)") }
        try require(p, .read, in: ws, "read \(name)", target: name)
        guard stream.kind != .channel || services.isDurableChannel(stream.name) else {
            throw APIError.notFound("\(name) is not durable: its history is not stored (subscribe over /ws instead)")
        }
        let page = try await storedPage(of: stream.name)
        let items: [JSONValue] = page.events.map { event in
            var pairs: [(String, JSONValue)] = [("offset", .int(Int64(event.offset))),
                                                ("data", .raw(String(buffer: event.data)))]
            if let key = event.key { pairs.append(("key", .string(key))) }
            pairs.append(("time", .date(Date(timeIntervalSince1970: Double(event.timeMillis) / 1000))))
            return .object(pairs)
        }
        return .json(.ok, .object(page.headFields + [("events", .array(items))]))
    }

    /// One page of a durable stream's stored events, after the request's `after` (default 0),
    /// at most its `limit` (1–1000, default 100); shared by the history and activity routes.
    struct StoredPage {
        var after: UInt64
        var events: [StoredStreamEvent]
        /// `stream`, `epoch`, `newest`, `oldest`: where the stream stands.
        var headFields: [(String, JSONValue)]
    }

    func storedPage(of stream: String) async throws -> StoredPage {
        let afterRaw = request.query["after"] ?? ""
        guard let after = afterRaw.isEmpty ? 0 : UInt64(afterRaw) else { throw APIError.badRequest("after must be an offset (0 or more)") }
        let limit = try queryInt("limit", default: 100, in: 1...1000)
        let events = try await services.streams.read(stream: stream, after: after, limit: limit)
        let head = services.streams.head(of: stream)
        return StoredPage(after: after, events: events,
                          headFields: [("stream", .string(stream)), ("epoch", .string(head.epoch.rawValue)),
                                       ("newest", .int(Int64(head.newestOffset))), ("oldest", .int(Int64(head.oldestOffset)))])
    }

    /// Live sessions and the streams loaded in memory (server admins: `manage` users).
    func stats(_ p: Principal) async throws -> HTTPResponse {
        try require(Policy.can(p, .manageUsers), p, "read server stats")
        let loaded = await hub?.loadedStreams() ?? StreamHub.LoadedStreams(total: 0, durable: 0, subscriptions: 0)
        return .json(.ok, .object([
            ("sessions", .int(Int64(access.liveSessionCount))),
            ("streams", .object([("loaded", .int(Int64(loaded.total))), ("durable", .int(Int64(loaded.durable)))])),
            ("subscriptions", .int(Int64(loaded.subscriptions))),
        ]))
    }
}
