import Foundation
import NIOCore
import Testing

@testable import LatticeProtocol

@Suite struct EncoderTests {
    @Test func event() {
        let out = encoded { EventEncoder.encode(stream: stream("channel/acme/general"), epoch: "e1", offset: 42, data: raw(#"{"text":"hi"}"#), into: &$0) }
        #expect(String(buffer: out) == #"{"type":"event","stream":"channel/acme/general","epoch":"e1","offset":42,"data":{"text":"hi"}}"#)
        let keyed = encoded { EventEncoder.encode(stream: "channel/w/cursors", epoch: "e", offset: 0, data: .null, key: "u1", into: &$0) }
        #expect(String(buffer: keyed) == #"{"type":"event","stream":"channel/w/cursors","epoch":"e","offset":0,"key":"u1","data":null}"#)
    }

    @Test func eventAppendsToWhatIsInTheBuffer() {
        var buffer = ByteBuffer(string: "prefix|")
        EventEncoder.encode(stream: "run/r", epoch: "e", offset: 1, data: raw("[1]"), into: &buffer)
        #expect(String(buffer: buffer) == #"prefix|{"type":"event","stream":"run/r","epoch":"e","offset":1,"data":[1]}"#)
    }

    @Test func integers() {
        for n in [0, 1, 9, 10, 99, 100, 12345, -1, -10, Int.max, Int.min] {
            let out = encoded { $0.writeJSONInteger(n) }
            #expect(String(buffer: out) == String(n))
        }
    }

    @Test func stringEscaping() {
        let cases: [(String, String)] = [
            ("", #""""#), ("a", #""a""#), ("\"", #""\"""#), ("\\", #""\\""#), ("/", #""/""#),
            ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#), ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#), ("\u{7F}", "\"\u{7F}\""),
            ("é中🎉", "\"é中🎉\""), ("a\"b\\c\nd", #""a\"b\\c\nd""#),
        ]
        for (input, expected) in cases {
            #expect(String(buffer: encoded { $0.writeJSONString(input) }) == expected)
        }
    }

    @Test func byteOrderMarkInsideStringsIsKept() {
        let out = encoded { $0.writeJSONString("\u{FEFF}a\u{FEFF}") }
        #expect(Array(buffer: out) == [0x22, 0xEF, 0xBB, 0xBF, 0x61, 0xEF, 0xBB, 0xBF, 0x22])
        let request = ClientRequest.subscribe(.init(stream: stream("run/r"), since: StreamPosition(epoch: "\u{FEFF}e", offset: 1)))
        #expect(ClientRequest.decode(encoded { request.encode(into: &$0) }) == .success(request))
    }

    @Test func welcome() {
        let out = encoded {
            ServerMessage.welcome(session: "9f3a", identity: Identity(id: "u1", name: "Ada \"A\"", kind: .user),
                limits: ProtocolLimits(maxMessageBytes: 1000, maxSubscriptions: 10, maxStreamNameBytes: 100, maxPresenceStateBytes: 50),
                heartbeatSeconds: 30, into: &$0)
        }
        #expect(String(buffer: out) == #"{"type":"welcome","protocol":"lattice.v1","session":"9f3a","identity":{"id":"u1","name":"Ada \"A\"","kind":"user"},"limits":{"maxMessageBytes":1000,"maxSubscriptions":10,"maxStreamNameBytes":100,"maxPresenceStateBytes":50},"heartbeatSeconds":30}"#)
        let o = object(out)
        #expect((o["identity"] as? [String: Any])?["name"] as? String == "Ada \"A\"")
    }

    @Test func ok() {
        #expect(String(buffer: encoded { ServerMessage.ok(id: nil, into: &$0) }) == #"{"type":"ok"}"#)
        #expect(String(buffer: encoded { ServerMessage.ok(id: RequestID(5), into: &$0) }) == #"{"type":"ok","id":5}"#)
        #expect(String(buffer: encoded { ServerMessage.ok(id: RequestID("x"), stream: stream("run/r"), epoch: "e", offset: 9, into: &$0) })
            == #"{"type":"ok","id":"x","stream":"run/r","epoch":"e","offset":9}"#)
        #expect(String(buffer: encoded { ServerMessage.ok(id: RequestID(3), epoch: "e", offset: 1, into: &$0) })
            == #"{"type":"ok","id":3,"epoch":"e","offset":1}"#)
    }

    @Test func okEchoesTheIdVerbatim() {
        for id in ["1.5e3", #""a\u00e9""#, "-0"] {
            guard case .ping(let ping) = decoded(#"{"type":"ping","id":"# + id + "}") else { continue }
            #expect(String(buffer: encoded { ServerMessage.ok(id: ping.id, into: &$0) }) == #"{"type":"ok","id":"# + id + "}")
        }
    }

    @Test func error() {
        #expect(String(buffer: encoded { ServerMessage.error(code: .badJSON, message: "bad \"x\"", into: &$0) })
            == #"{"type":"error","code":"bad_json","message":"bad \"x\""}"#)
        let e = ProtocolError(.notSubscribed, "not subscribed", id: RequestID(2), stream: stream("doc/d"))
        #expect(String(buffer: encoded { ServerMessage.error(e, into: &$0) })
            == #"{"type":"error","id":2,"code":"not_subscribed","message":"not subscribed","stream":"doc/d"}"#)
    }

    @Test func everyDecodeErrorEncodesToValidJSON() {
        let bad = ["{", "[]", #"{"id":"q","type":1}"#, #"{"id":1,"type":"publish","stream":"run/\u0000"}"#, #"{"id":1,"type":"\n\u0000"}"#]
        for text in bad {
            guard let error = decodeError(text) else { continue }
            let o = object(encoded { ServerMessage.error(error, into: &$0) })
            #expect(o["type"] as? String == "error")
            #expect(o["code"] as? String == error.code.rawValue)
            #expect(o["message"] as? String == error.message)
        }
    }

    @Test func recovered() {
        #expect(String(buffer: encoded { ServerMessage.recovered(stream: stream("run/r"), recovered: true, epoch: "e", offset: 7, into: &$0) })
            == #"{"type":"recovered","stream":"run/r","recovered":true,"epoch":"e","offset":7}"#)
        #expect(String(buffer: encoded { ServerMessage.recovered(stream: stream("run/r"), recovered: false, epoch: "f", offset: 0, into: &$0) })
            == #"{"type":"recovered","stream":"run/r","recovered":false,"epoch":"f","offset":0}"#)
    }

    @Test func presence() {
        let ada = ServerMessage.Member(identity: Identity(id: "u1", name: "Ada", kind: .user), metas: [
            ServerMessage.Meta(conn: "a1", state: raw(#"{"status":"here"}"#)), ServerMessage.Meta(conn: "a2", state: .emptyObject),
        ])
        let bot = ServerMessage.Member(identity: Identity(id: "b1", name: "Indexer", kind: .bot), metas: [ServerMessage.Meta(conn: "b", state: .emptyObject)])
        #expect(String(buffer: encoded { ServerMessage.presence(stream: stream("doc/d"), members: [ada, bot], into: &$0) })
            == #"{"type":"presence","stream":"doc/d","members":[{"id":"u1","name":"Ada","kind":"user","metas":[{"conn":"a1","state":{"status":"here"}},{"conn":"a2","state":{}}]},{"id":"b1","name":"Indexer","kind":"bot","metas":[{"conn":"b","state":{}}]}]}"#)
        #expect(String(buffer: encoded { ServerMessage.presence(stream: stream("doc/d"), members: [], into: &$0) })
            == #"{"type":"presence","stream":"doc/d","members":[]}"#)
        #expect(String(buffer: encoded { ServerMessage.presenceDiff(stream: stream("doc/d"), joins: [bot], leaves: [], updates: [ada], into: &$0) })
            == #"{"type":"presence.diff","stream":"doc/d","joins":[{"id":"b1","name":"Indexer","kind":"bot","metas":[{"conn":"b","state":{}}]}],"leaves":[],"updates":[{"id":"u1","name":"Ada","kind":"user","metas":[{"conn":"a1","state":{"status":"here"}},{"conn":"a2","state":{}}]}]}"#)
    }

    @Test func requestsEncodeAsDocumented() {
        let cases: [(ClientRequest, String)] = [
            (.subscribe(.init(id: RequestID(1), stream: stream("channel/acme/general"))), #"{"type":"subscribe","id":1,"stream":"channel/acme/general"}"#),
            (.subscribe(.init(stream: stream("run/r"), since: StreamPosition(epoch: "e", offset: 3))), #"{"type":"subscribe","stream":"run/r","since":{"epoch":"e","offset":3}}"#),
            (.subscribe(.init(id: RequestID("s"), stream: stream("doc/d"), snapshot: true)), #"{"type":"subscribe","id":"s","stream":"doc/d","snapshot":true}"#),
            (.unsubscribe(.init(id: RequestID(2), stream: stream("run/r"))), #"{"type":"unsubscribe","id":2,"stream":"run/r"}"#),
            (.publish(.init(id: RequestID(3), stream: stream("channel/w/c"), data: raw("[1]"), key: "k")), #"{"type":"publish","id":3,"stream":"channel/w/c","key":"k","data":[1]}"#),
            (.presenceSet(.init(id: RequestID(4), stream: stream("doc/d"), state: raw(#"{"a":1}"#))), #"{"type":"presence.set","id":4,"stream":"doc/d","state":{"a":1}}"#),
            (.ping(.init(id: RequestID(5))), #"{"type":"ping","id":5}"#),
        ]
        for (request, text) in cases {
            #expect(String(buffer: encoded { request.encode(into: &$0) }) == text)
            #expect(decoded(text) == request)
        }
    }

    @Test func rawJSONValidation() {
        #expect(RawJSON(validating: "  [1, 2] \n")?.text == "[1, 2]")
        #expect(RawJSON(validating: "[1, 2] x") == nil)
        #expect(RawJSON(validating: "") == nil)
        #expect(RawJSON(validating: #""\ud800""#) == nil)
        #expect(RawJSON(validating: "[[[]]]", maxDepth: 2) == nil)
        #expect(RawJSON(validating: "[[[]]]", maxDepth: 3) != nil)
        #expect(RawJSON(validating: "{}")!.isObject)
        #expect(RawJSON(validating: #""s""#)!.isString)
    }
}
