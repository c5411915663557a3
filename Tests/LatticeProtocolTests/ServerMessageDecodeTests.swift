import NIOCore
import Testing

@testable import LatticeProtocol

/// Decodes a server message, recording an issue if it fails.
func decodedServer(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ServerMessage? {
    switch ServerMessage.decode(text) {
    case .success(let message): return message
    case .failure(let error):
        Issue.record("\(text) failed: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func expectServerError(_ text: String, _ code: ErrorCode, mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
    switch ServerMessage.decode(text) {
    case .success(let message):
        Issue.record("\(text) decoded to \(message) but should fail", sourceLocation: sourceLocation)
    case .failure(let error):
        #expect(error.code == code, "\(text): \(error)", sourceLocation: sourceLocation)
        for word in mentions {
            #expect(error.message.contains(word), "\(text): '\(error.message)' should mention \(word)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct ServerMessageDecodeTests {
    let ada = Identity(id: "u1", name: "Ada \"A\" é", kind: .user)

    @Test func welcome() {
        let text = #"{"type":"welcome","protocol":"lattice.v1","session":"9f3a","identity":{"id":"u1","name":"Ada \"A\" é","kind":"user"},"limits":{"maxMessageBytes":1000,"maxSubscriptions":10,"maxStreamNameBytes":100,"maxPresenceStateBytes":50},"heartbeatSeconds":30}"#
        let expected = ServerMessage.welcome(.init(
            session: "9f3a", identity: ada,
            limits: ProtocolLimits(maxMessageBytes: 1000, maxSubscriptions: 10, maxStreamNameBytes: 100, maxPresenceStateBytes: 50),
            heartbeatSeconds: 30))
        #expect(decodedServer(text) == expected)
        #expect(String(buffer: expected.encoded) == text)
    }

    @Test func okErrorAndUnsubscribed() {
        #expect(decodedServer(#"{"type":"ok"}"#) == .ok(.init()))
        #expect(decodedServer(#" {"offset":3,"type":"ok","id":"x","epoch":"e","stream":"run/r"} "#)
            == .ok(.init(id: RequestID("x"), stream: stream("run/r"), epoch: "e", offset: 3)))
        #expect(decodedServer(#"{"type":"error","id":7,"code":"forbidden","message":"no","stream":"doc/d"}"#)
            == .error(ProtocolError(.forbidden, "no", id: RequestID(7), stream: stream("doc/d"))))
        let newer = decodedServer(#"{"type":"error","code":"from_the_future","message":""}"#)
        #expect(newer == .error(ProtocolError(ErrorCode(rawValue: "from_the_future"), "")))
        #expect(decodedServer(#"{"type":"unsubscribed","stream":"channel/w/c","code":"reconfigured","message":"m"}"#)
            == .unsubscribed(.init(stream: stream("channel/w/c"), code: .reconfigured, message: "m")))
    }

    @Test func streamMessages() {
        #expect(decodedServer(#"{"type":"event","stream":"channel/w/c","epoch":"e1","offset":42,"key":"k","data":{"a": [1]}}"#)
            == .event(.init(stream: stream("channel/w/c"), epoch: "e1", offset: 42, key: "k", data: raw(#"{"a": [1]}"#))))
        #expect(decodedServer(#"{"type":"recovered","stream":"run/r","recovered":false,"epoch":"e","offset":0}"#)
            == .recovered(.init(stream: stream("run/r"), recovered: false, epoch: "e", offset: 0)))
        #expect(decodedServer(#"{"type":"snapshot","stream":"doc/d","epoch":"e","offset":5,"data":"x"}"#)
            == .snapshot(.init(stream: stream("doc/d"), epoch: "e", offset: 5, data: raw(#""x""#))))
    }

    @Test func presence() {
        let member = ServerMessage.Member(identity: ada, metas: [.init(conn: "s1", state: raw(#"{"x":1}"#))])
        let bot = ServerMessage.Member(identity: Identity(id: "b", name: "B", kind: .bot), metas: [])
        let full = ServerMessage.presence(.init(stream: stream("doc/d"), members: [member, bot]))
        #expect(ServerMessage.decode(full.encoded) == .success(full))
        let diff = ServerMessage.presenceDiff(.init(stream: stream("doc/d"), joins: [member], leaves: [bot], updates: []))
        #expect(ServerMessage.decode(diff.encoded) == .success(diff))
        #expect(String(buffer: diff.encoded).contains(#""leaves":[{"id":"b","name":"B","kind":"bot","metas":[]}]"#))
    }

    @Test func unknownTypesAreKept() {
        #expect(decodedServer(#"{"type":"run.started","anything":[1,2]}"#) == .unknown(type: "run.started"))
    }

    @Test func malformed() {
        expectServerError("{", .badJSON)
        expectServerError("[1]", .notObject)
        expectServerError(#"{"stream":"run/r"}"#, .missingField, mentions: ["type"])
        expectServerError(#"{"type":1}"#, .wrongType, mentions: ["type"])
        expectServerError(#"{"type":"event","stream":"run/r","epoch":"e","offset":-1,"data":1}"#, .wrongType, mentions: ["offset"])
        expectServerError(#"{"type":"event","stream":"run/r","epoch":"e","offset":1.5,"data":1}"#, .wrongType, mentions: ["offset"])
        expectServerError(#"{"type":"event","stream":"run/r","epoch":"e","offset":1}"#, .missingField, mentions: ["data"])
        expectServerError(#"{"type":"event","stream":"nope","epoch":"e","offset":1,"data":1}"#, .invalidStream)
        expectServerError(#"{"type":"ok","id":1,"id":2}"#, .duplicateField, mentions: ["id"])
        expectServerError(#"{"type":"presence","stream":"run/r","members":[{"id":"u","name":"n","kind":"alien","metas":[]}]}"#,
                          .wrongType, mentions: ["members[0].kind"])
        expectServerError(#"{"type":"presence","stream":"run/r","members":[{"id":"u","name":"n","kind":"user","metas":[{"conn":"c","state":1}]}]}"#,
                          .wrongType, mentions: ["members[0].metas[0].state"])
        expectServerError(String(repeating: "[", count: 100) + String(repeating: "]", count: 100), .tooLarge)
    }
}
