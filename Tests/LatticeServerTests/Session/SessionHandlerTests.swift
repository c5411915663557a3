import NIOEmbedded
import LatticeProtocol
import NIOCore
import Testing
@testable import LatticeServer

/// `SessionHandler` in process: requests in, frames out, against a real hub on a testing loop.
@Suite("SessionHandler", .timeLimit(.minutes(1)))
struct SessionHandlerTests {
    @Test("welcome, subscribe, publish: the subscriber gets the event, the publisher its ok with the offset")
    func subscribeAndPublish() async throws {
        let bed = try await SessionTestBed.make()
        let (reader, welcome) = try await bed.connect(token: bed.server.adminToken)
        #expect(welcome.type == "welcome")
        #expect((welcome.object["identity"] as? [String: Any])?["name"] as? String == "admin")
        let answer = try await reader.subscribe("channel/demo/general", id: 1)
        #expect(answer.map(\.type) == ["ok", "presence"])
        #expect(answer[0].object["id"] as? Int == 1)
        let (writer, _) = try await bed.connect(token: bed.server.adminToken)
        try await writer.send(#"{"type":"publish","id":7,"stream":"channel/demo/general","data":{"text":"hi"}}"#)
        let ok = try await writer.next()
        #expect(ok.type == "ok")
        #expect(ok.object["id"] as? Int == 7)
        #expect(ok.offset == 1)
        let event = try await reader.next()
        #expect(event.type == "event")
        #expect(event.offset == 1)
        #expect(event.data["text"] as? String == "hi")
        #expect(event.object["epoch"] as? String == ok.object["epoch"] as? String)
        await bed.close()
    }

    @Test("answers are written in request order even when one is computed on the home loop")
    func answersInOrder() async throws {
        let bed = try await SessionTestBed.make()
        let (session, _) = try await bed.connect(token: bed.server.adminToken)
        try await session.send(#"{"type":"subscribe","id":1,"stream":"channel/demo/a"}"#)
        try await session.send(#"{"type":"ping","id":2}"#)
        try await session.send(#"{"type":"unsubscribe","id":3,"stream":"channel/demo/nope"}"#)
        let messages = try await session.next(4)
        #expect(messages.map(\.type) == ["ok", "presence", "ok", "error"])
        #expect(messages.map { $0.object["id"] as? Int } == [1, nil, 2, 3])
        #expect(messages[3].code == "not_subscribed")
        await bed.close()
    }

    @Test("resume: a subscriber that gives its last position gets recovered:true and exactly the missed events")
    func resume() async throws {
        let bed = try await SessionTestBed.make()
        let (writer, _) = try await bed.connect(token: bed.server.adminToken)
        var epoch = ""
        for n in 1...5 {
            try await writer.send(#"{"type":"publish","id":\#(n),"stream":"channel/demo/r","data":{"n":\#(n)}}"#)
            epoch = try await writer.next().object["epoch"] as? String ?? ""
        }
        let (reader, _) = try await bed.connect(token: bed.server.viewerToken)
        let answer = try await reader.subscribe("channel/demo/r", id: 1, extra: #","since":{"epoch":"\#(epoch)","offset":2}"#)
        #expect(answer.map(\.type) == ["ok", "recovered", "event", "event", "event", "presence"])
        #expect(answer[1].object["recovered"] as? Bool == true)
        #expect(answer.filter { $0.type == "event" }.map { $0.offset ?? 0 } == [3, 4, 5])
        let stale = try await reader.subscribe("channel/demo/other", id: 2, extra: #","since":{"epoch":"0000000000000000","offset":2}"#)
        #expect(stale.map(\.type) == ["ok", "recovered", "presence"])
        #expect(stale[1].object["recovered"] as? Bool == false)
        await bed.close()
    }

    @Test("a subscribe beyond the stream's subscriber limit is refused with subscriber_limit; the first subscriber keeps its events")
    func subscriberLimit() async throws {
        var settings = HubSettings()
        settings.maxSubscribersPerStream = 1
        let bed = try await SessionTestBed.make(settings: settings)
        let (first, _) = try await bed.connect(token: bed.server.adminToken)
        #expect(try await first.subscribe("channel/demo/full", id: 1).map(\.type) == ["ok", "presence"])
        let (second, _) = try await bed.connect(token: bed.server.viewerToken)
        try await second.send(#"{"type":"subscribe","id":2,"stream":"channel/demo/full"}"#)
        let refused = try await second.next()
        #expect(refused.type == "error")
        #expect(refused.code == "subscriber_limit")
        #expect(refused.object["id"] as? Int == 2)
        #expect(refused.object["stream"] as? String == "channel/demo/full")
        try await first.send(#"{"type":"publish","id":3,"stream":"channel/demo/full","data":1}"#)
        #expect(try await first.next(2).map(\.type).sorted() == ["event", "ok"])
        await bed.close()
    }

    @Test("a viewer's publish is refused as forbidden and nobody sees it")
    func forbiddenPublish() async throws {
        let bed = try await SessionTestBed.make()
        let (reader, _) = try await bed.connect(token: bed.server.adminToken)
        _ = try await reader.subscribe("channel/demo/general", id: 1)
        let (viewer, _) = try await bed.connect(token: bed.server.viewerToken)
        try await viewer.send(#"{"type":"publish","id":1,"stream":"channel/demo/general","data":1}"#)
        let refused = try await viewer.next()
        #expect(refused.type == "error")
        #expect(refused.code == "forbidden")
        // A later publish by the admin is the first event the reader sees.
        let (admin, _) = try await bed.connect(token: bed.server.adminToken)
        try await admin.send(#"{"type":"publish","id":2,"stream":"channel/demo/general","data":2}"#)
        _ = try await admin.next()
        let event = try await reader.next()
        #expect(event.type == "event")
        #expect(event.object["data"] as? Int == 2)
        await bed.close()
    }

    @Test("a revoked token closes its live sessions with 4003 and the reason")
    func revokedToken() async throws {
        let bed = try await SessionTestBed.make()
        let (session, _) = try await bed.connect(token: bed.server.viewerToken)
        _ = try await session.subscribe("channel/demo/general", id: 1)
        bed.server.services.access.tokenRevoked(session.tokenID)
        let close = try await session.next()
        #expect(close.type == "close")
        #expect(close.object["code"] as? Int == 4003)
        #expect(close.object["reason"] as? String == "token revoked")
        await bed.close()
    }

    @Test("slow consumer: a paused subscriber gets a gap notice past its queue, then the newest events in order")
    func slowConsumerGap() async throws {
        let bed = try await SessionTestBed.make()
        let (reader, _) = try await bed.connect(token: bed.server.viewerToken)
        _ = try await reader.subscribe("channel/demo/busy", id: 1)
        try await reader.setWritable(false)
        let (writer, _) = try await bed.connect(token: bed.server.adminToken)
        let total = 300  // the ephemeral queue holds 256
        for n in 1...total {
            try await writer.send(#"{"type":"publish","id":\#(n),"stream":"channel/demo/busy","data":{"n":\#(n)}}"#)
            _ = try await writer.next()
        }
        try await reader.setWritable(true)
        var messages: [Received] = []
        while messages.last?.offset != total || messages.last?.type != "event" { messages.append(try await reader.next()) }
        let gap = try #require(messages.first)
        #expect(gap.type == "recovered")
        #expect(gap.object["recovered"] as? Bool == false)
        let events = messages.filter { $0.type == "event" }.map { $0.offset ?? 0 }
        #expect(events == Array((total - events.count + 1)...total))
        #expect(events.count == 256)
        #expect((gap.offset ?? 0) == total - 256, "the gap notice says where the kept events resume")
        await bed.close()
    }

    @Test("slow consumer: a subscriber paused longer than its class allows is closed with 4001")
    func slowConsumerClose() async throws {
        let bed = try await SessionTestBed.make()
        let (reader, _) = try await bed.connect(token: bed.server.viewerToken)
        _ = try await reader.subscribe("channel/demo/stuck", id: 1)
        try await reader.setWritable(false)
        let (writer, _) = try await bed.connect(token: bed.server.adminToken)
        try await writer.send(#"{"type":"publish","id":1,"stream":"channel/demo/stuck","data":1}"#)
        _ = try await writer.next()
        // The ephemeral class closes after 30 s paused; the stall check runs every second.
        await bed.loop.advanceTime(by: .seconds(32))
        let close = try await reader.next()
        #expect(close.type == "close")
        #expect(close.object["code"] as? Int == 4001)
        await bed.close()
    }

    @Test("coalescing channel: marked over REST, a stalled reader then gets the latest value of each key and every keyless event, not the backlog")
    func coalescingStalledReader() async throws {
        let bed = try await SessionTestBed.make()
        let stream = "channel/demo/cursors"
        let (reader, _) = try await bed.connect(token: bed.server.viewerToken)
        _ = try await reader.subscribe(stream, id: 1)
        // The owner marks the channel coalescing; the loaded ephemeral stream is reloaded.
        var http = try await HTTPTestConnection(routes: .serve(files: StaticFiles(), webSocketPath: "/ws",
                                                               services: bed.server.services, hub: bed.hub, origins: OriginPolicy()))
        let body = #"{"coalescing":true}"#
        let put = try await http.exchange(HTTPTestRequest.make(
            "PUT", "/api/workspaces/demo/channels/cursors",
            headers: [("Authorization", "Bearer \(bed.server.adminToken)"), ("Content-Type", "application/json")], body: body))
        #expect(put.status == 200, "\(put.text)")
        #expect(put.json["class"] as? String == "coalescing")
        #expect(put.json["coalescing"] as? Bool == true && put.json["durable"] as? Bool == false)
        let ended = try await reader.next()
        #expect(ended.type == "unsubscribed")
        #expect(ended.code == "reconfigured")
        _ = try await reader.subscribe(stream, id: 2)

        try await reader.setWritable(false)
        let (writer, _) = try await bed.connect(token: bed.server.adminToken)
        let total = 300
        for n in 1...total {
            // Three cursors moving, and every hundredth a keyless event.
            let key = n % 100 == 0 ? "" : #","key":"u\#(n % 3)""#
            try await writer.send(#"{"type":"publish","id":\#(n),"stream":"\#(stream)"\#(key),"data":{"n":\#(n)}}"#)
            #expect(try await writer.next().type == "ok")
        }
        try await reader.setWritable(true)
        var messages: [Received] = []
        while messages.last?.offset != total || messages.last?.type != "event" { messages.append(try await reader.next()) }
        #expect(messages.allSatisfy { $0.type == "event" }, "replaced keyed events are no gap: \(messages.map(\.type))")
        #expect(messages.map { $0.offset ?? 0 } == [100, 200, 297, 298, 299, 300])
        #expect(messages.map { $0.object["key"] as? String } == [nil, nil, "u0", "u1", "u2", nil])
        #expect(messages.map { $0.data["n"] as? Int } == [100, 200, 297, 298, 299, 300])

        // Live again: everything goes straight through.
        try await writer.send(#"{"type":"publish","id":0,"stream":"\#(stream)","key":"u0","data":{"n":301}}"#)
        _ = try await writer.next()
        #expect(try await reader.next().offset == 301)
        await bed.close()
    }
}
