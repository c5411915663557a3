import Foundation
import NIOCore
import PropertyBased
import Testing

@testable import LatticeProtocol

struct EventCase: CustomStringConvertible {
    var stream: StreamName
    var epoch: StreamEpoch
    var offset: UInt64
    var key: String?
    var data: String

    var description: String { "stream: \(stream), epoch: \(epoch.rawValue.debugDescription), offset: \(offset), key: \(String(describing: key?.debugDescription)), data: \(data)" }
}

let eventGen = Generator<EventCase, Shrink.None<EventCase>> { rng in randomEvent(using: &rng) }

func randomEvent(using rng: inout some RandomNumberGenerator) -> EventCase {
    EventCase(
        stream: randomStreamName(using: &rng),
        epoch: StreamEpoch(randomString(maxLength: 20, using: &rng)),
        offset: Bool.random(using: &rng) ? UInt64.random(in: 0...1000, using: &rng) : UInt64.random(in: 0...UInt64.max, using: &rng),
        key: Bool.random(using: &rng) ? randomString(maxLength: 20, using: &rng) : nil,
        data: randomJSON(using: &rng))
}

let dataGen = Generator<String, Shrink.None<String>> { rng in randomJSON(using: &rng) }

let stringGen = Generator<String, Shrink.None<String>> { rng in randomString(maxLength: 40, using: &rng) }

let requestGen = Generator<ClientRequest, Shrink.None<ClientRequest>> { rng in randomRequest(using: &rng) }

func randomRequest(using rng: inout some RandomNumberGenerator) -> ClientRequest {
    var id: RequestID?
    switch Int.random(in: 0..<3, using: &rng) {
    case 0: id = nil
    case 1: id = RequestID(Int.random(in: Int.min...Int.max, using: &rng))
    default: id = RequestID(randomString(maxLength: 20, using: &rng))
    }
    let name = randomStreamName(using: &rng)
    switch Int.random(in: 0..<5, using: &rng) {
    case 0:
        let since = Bool.random(using: &rng)
            ? StreamPosition(epoch: StreamEpoch(randomString(maxLength: 20, using: &rng)), offset: UInt64.random(in: 0...UInt64(Int.max), using: &rng)) : nil
        return .subscribe(.init(id: id, stream: name, since: since, snapshot: since == nil && Bool.random(using: &rng)))
    case 1: return .unsubscribe(.init(id: id, stream: name))
    case 2:
        let channel = stream("channel/" + randomSegment(using: &rng) + "/" + randomSegment(using: &rng))
        let key = Bool.random(using: &rng) ? randomString(maxLength: 20, using: &rng) : nil
        return .publish(.init(id: id, stream: channel, data: RawJSON(validating: randomJSON(using: &rng))!, key: key))
    case 3:
        var state = randomJSON(using: &rng)
        while !state.hasPrefix("{") { state = randomJSON(using: &rng) }
        return .presenceSet(.init(id: id, stream: name, state: RawJSON(validating: state)!))
    default: return .ping(.init(id: id))
    }
}

let damagedRequestGen = Generator<[UInt8], Shrink.None<[UInt8]>> { rng in damagedRequest(using: &rng) }

func damagedRequest(using rng: inout some RandomNumberGenerator) -> [UInt8] {
    var base = Array(#"{"type":"publish","id":1,"stream":"channel/w/c","data":{"a":[1,"x"]}}"#.utf8)
    for _ in 0..<Int.random(in: 0...6, using: &rng) {
        let at = Int.random(in: 0..<base.count, using: &rng)
        base[at] = UInt8.random(in: 0...255, using: &rng)
    }
    return base
}

@Suite struct PropertyTests {
    @Test func eventsParseBackToTheSameValues() async {
        await propertyCheck(count: 400, input: eventGen) { c in
            let data = RawJSON(validating: c.data)!
            let out = encoded { EventEncoder.encode(stream: c.stream, epoch: c.epoch, offset: c.offset, data: data, key: c.key, into: &$0) }
            let o = object(out)
            #expect(same(o["type"], "event"))
            #expect(same(o["stream"], c.stream.name))
            #expect(same(o["epoch"], c.epoch.rawValue))
            #expect((o["offset"] as? NSNumber)?.uint64Value == c.offset)
            #expect(same(o["key"], c.key))
            #expect((o["key"] == nil) == (c.key == nil))
            #expect(canonical(o["data"]) == canonical(foundationParse(Array(c.data.utf8))))
            // data is embedded byte for byte
            #expect(String(buffer: out).contains(",\"data\":" + data.text + "}"))
        }
    }

    @Test func stringsSurviveEveryEncoder() async {
        await propertyCheck(count: 300, input: stringGen, stringGen) { a, b in
            let welcome = object(encoded {
                ServerMessage.welcome(session: a, identity: Identity(id: b, name: a + b, kind: .bot), limits: ProtocolLimits(), heartbeatSeconds: 15, into: &$0)
            })
            #expect(same(welcome["session"], a))
            let identity = welcome["identity"] as? [String: Any]
            #expect(same(identity?["id"], b))
            #expect(same(identity?["name"], a + b))
            #expect(same(identity?["kind"], "bot"))

            let error = object(encoded { ServerMessage.error(code: .internal, message: a, id: RequestID(b), into: &$0) })
            #expect(same(error["message"], a))
            #expect(same(error["id"], b))

            let ok = object(encoded { ServerMessage.ok(id: RequestID(a), stream: stream("run/r"), epoch: StreamEpoch(b), offset: 1, into: &$0) })
            #expect(same(ok["id"], a))
            #expect(same(ok["epoch"], b))

            let recovered = object(encoded { ServerMessage.recovered(stream: stream("run/r"), recovered: true, epoch: StreamEpoch(a), offset: 2, into: &$0) })
            #expect(same(recovered["epoch"], a))

            let member = ServerMessage.Member(identity: Identity(id: a, name: b, kind: .user), metas: [ServerMessage.Meta(conn: b, state: .emptyObject)])
            let diff = object(encoded { ServerMessage.presenceDiff(stream: stream("doc/d"), joins: [member], leaves: [member], updates: [], into: &$0) })
            let join = (diff["joins"] as? [[String: Any]])?.first
            #expect(same(join?["id"], a))
            #expect(same(join?["name"], b))
            #expect(same(((join?["metas"] as? [[String: Any]])?.first)?["conn"], b))
        }
    }

    @Test func requestsRoundTrip() async {
        await propertyCheck(count: 400, input: requestGen) { request in
            let text = encoded { request.encode(into: &$0) }
            #expect(ClientRequest.decode(text) == .success(request))
            #expect(foundationParse(text) is [String: Any])
        }
    }

    @Test func randomDataIsEmbeddedVerbatim() async {
        await propertyCheck(count: 400, input: dataGen) { data in
            let message = #"{"type":"publish","id":1,"stream":"channel/w/c","data":"# + data + "}"
            guard case .success(.publish(let p)) = ClientRequest.decode(message) else {
                Issue.record("refused \(message)")
                return
            }
            let trimmed = data.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(p.data.text == trimmed)
            let out = encoded { EventEncoder.encode(stream: p.stream, epoch: "e", offset: 1, data: p.data, into: &$0) }
            #expect(canonical(object(out)["data"]) == canonical(foundationParse(Array(data.utf8))))
        }
    }

    /// Arbitrary bytes never crash the decoder, and a refusal is always one of the documented codes.
    @Test func arbitraryBytesNeverCrash() async {
        await propertyCheck(count: 500, input: damagedRequestGen) { bytes in
            switch ClientRequest.decode(ByteBuffer(bytes: bytes)) {
            case .success(let request):
                #expect(foundationParse(bytes) is [String: Any], "accepted what Foundation refuses")
                if case .publish(let p) = request { #expect(foundationParse(p.data.bytes) != nil) }
            case .failure(let error):
                #expect(!error.message.isEmpty)
                if error.code == .badJSON { #expect(error.id == nil) }
            }
        }
    }
}
