import LatticeClient
import Foundation
import Testing

@Suite("streams: every request gets one ok/error with its id",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]),
       .timeLimit(.minutes(5)))
struct RequestErrorTests {
    /// The conversation "One error of each malformed kind" of docs/protocol.md, byte for byte.
    static let documented: [(String, String)] = [
        (#"{"type":"ping","#, #"{"type":"error","code":"bad_json","message":"invalid JSON at byte 15: unexpected end of input"}"#),
        ("[1,2]", #"{"type":"error","code":"not_object","message":"the message is an array, not a JSON object"}"#),
        (#"{"id":1}"#, #"{"type":"error","id":1,"code":"missing_field","message":"field 'type' (string) is required"}"#),
        (#"{"id":2,"type":7}"#, #"{"type":"error","id":2,"code":"wrong_type","message":"field 'type' must be a string, not a number"}"#),
        (#"{"id":null,"type":"ping"}"#, #"{"type":"error","code":"wrong_type","message":"field 'id' must be a number or a string, not null"}"#),
        (#"{"id":3,"type":"pong"}"#, #"{"type":"error","id":3,"code":"unknown_type","message":"unknown request type 'pong' (expected subscribe, unsubscribe, publish, presence.set, ping, run.start, run.cancel, run.approve, worker.register, task.progress, task.complete or task.fail)"}"#),
        (#"{"id":4,"type":"subscribe"}"#, #"{"type":"error","id":4,"code":"missing_field","message":"field 'stream' (string) is required"}"#),
        (#"{"id":5,"type":"subscribe","stream":"channel/acme"}"#, #"{"type":"error","id":5,"code":"invalid_stream","message":"stream name 'channel/acme' must have the form channel/{workspace}/{name}"}"#),
        (#"{"id":6,"type":"subscribe","stream":"run/r 1"}"#, #"{"type":"error","id":6,"code":"invalid_stream","message":"stream name 'run/r 1' has a character ' ' at byte 5 not allowed in a segment (A-Z a-z 0-9 . _ ~ -)"}"#),
        (#"{"id":7,"type":"subscribe","stream":"run/r1","since":{"epoch":"e1","offset":-1}}"#, #"{"type":"error","id":7,"code":"wrong_type","message":"field 'since.offset' must be an integer from 0 to 9223372036854775807, not -1","stream":"run/r1"}"#),
        (#"{"id":8,"type":"subscribe","stream":"doc/d","since":{"epoch":"e","offset":1},"snapshot":true}"#, #"{"type":"error","id":8,"code":"conflicting_fields","message":"fields 'since' and 'snapshot: true' exclude each other","stream":"doc/d"}"#),
        (#"{"id":9,"type":"publish","stream":"channel/demo/b","data":1,"data":2}"#, #"{"type":"error","id":9,"code":"duplicate_field","message":"field 'data' appears more than once"}"#),
        (#"{"id":10,"type":"publish","stream":"run/r1","data":{}}"#, #"{"type":"error","id":10,"code":"not_publishable","message":"only channel streams accept publish; 'run/r1' is a run stream","stream":"run/r1"}"#),
        (#"{"id":11,"type":"presence.set","stream":"doc/d","state":"away"}"#, #"{"type":"error","id":11,"code":"wrong_type","message":"field 'state' must be an object, not a string","stream":"doc/d"}"#),
        (#"{"id":12,"type":"presence.set","stream":"doc/d","state":{"blob":"\#(String(repeating: "x", count: 5001))"}}"#, #"{"type":"error","id":12,"code":"too_large","message":"field 'state' is 5012 bytes; the limit is 4096","stream":"doc/d"}"#),
        (#"{"type":"ping","pad":"\#(String(repeating: "p", count: 70000 - 24))"}"#, #"{"type":"error","code":"too_large","message":"the message is 70000 bytes; the limit is 65536"}"#),
    ]

    @Test("the documented malformed requests get the documented errors, over a real socket, and the connection stays open")
    func documentedErrors() async throws {
        let client = try await StreamClient.connect(port: try TestServerProcess.require().port)
        for (request, expected) in Self.documented {
            try await client.send(request)
            let answer = try await client.next()
            #expect(answer.text == expected, "request: \(request.prefix(120))")
        }
        let pong = try await client.request(#"{"type":"ping","id":"last"}"#)
        #expect(pong.text == #"{"type":"ok","id":"last"}"#)
        await client.close()
    }

    @Test("server-side checks: already_subscribed, not_subscribed, unsupported_encoding, presence.set without subscribe")
    func serverChecks() async throws {
        let client = try await StreamClient.connect(port: try TestServerProcess.require().port, name: "checker")
        let first = try await client.request(#"{"type":"subscribe","id":1,"stream":"channel/demo/d1"}"#)
        #expect(first.type == "ok")
        let again = try await client.request(#"{"type":"subscribe","id":2,"stream":"channel/demo/d1"}"#)
        #expect(again.code == "already_subscribed")
        #expect((again.json["id"] as? NSNumber)?.intValue == 2)
        #expect(again.stream == "channel/demo/d1")
        let notSub = try await client.request(#"{"type":"unsubscribe","id":"u","stream":"channel/demo/other"}"#)
        #expect(notSub.code == "not_subscribed")
        #expect(notSub.json["id"] as? String == "u")
        let presence = try await client.request(#"{"type":"presence.set","id":3,"stream":"channel/demo/other","state":{}}"#)
        #expect(presence.code == "not_subscribed")
        try await client.connection.send(binary: [1, 2, 3])
        let binary = try await client.next { $0.type == "error" }
        #expect(binary.code == "unsupported_encoding")
        let okPresence = try await client.request(#"{"type":"presence.set","id":4,"stream":"channel/demo/d1","state":{"s":1}}"#)
        #expect(okPresence.text == #"{"type":"ok","id":4}"#)
        await client.close()
    }

    @Test("too_many_subscriptions past maxSubscriptions (256), answers in request order")
    func tooManySubscriptions() async throws {
        let client = try await StreamClient.connect(port: try TestServerProcess.require().port)
        let limit = try #require(((client.welcome.json["limits"] as? [String: Any])?["maxSubscriptions"] as? NSNumber)?.intValue)
        for i in 0...limit {
            try await client.send(#"{"type":"subscribe","id":\#(i),"stream":"channel/demo/many-s\#(i)"}"#)
        }
        for i in 0...limit {
            let answer = try await client.next { $0.type == "ok" || $0.type == "error" }
            #expect((answer.json["id"] as? NSNumber)?.intValue == i)
            #expect(answer.type == (i < limit ? "ok" : "error"), "\(answer)")
            if i == limit { #expect(answer.code == "too_many_subscriptions") }
        }
        await client.close()
    }

    @Test("welcome carries session, the token's identity, limits and heartbeat; no or a forged token is refused with 401")
    func welcome() async throws {
        let server = try TestServerProcess.require()
        let port = server.port
        let client = try await StreamClient.connect(port: port, name: "Ada Lovelace", kind: "bot")
        let identity = try #require(client.welcome.json["identity"] as? [String: Any])
        #expect(identity["name"] as? String == "Ada Lovelace")
        #expect(identity["kind"] as? String == "bot")
        #expect((identity["id"] as? String)?.hasPrefix("u_") == true)
        #expect(client.session.count == 16)
        #expect(client.welcome.json["heartbeatSeconds"] as? NSNumber == 0)
        await client.close()
        for credential in [nil, "lat_t_0123456789abcdef_forgedsecret", "not-a-token"] as [String?] {
            let socket = try RawWebSocket(port: port, timeout: 5)
            var headers: [(String, String?)] = [("Sec-WebSocket-Protocol", "lattice.v1")]
            if let credential { headers.append(("Authorization", "Bearer \(credential)")) }
            try socket.write(RawWebSocket.handshakeRequest(path: "/ws", headers: headers))
            let response = try socket.readHTTPResponse()
            #expect(response.status == 401, "credential \(credential ?? "none")")
        }
    }
}
