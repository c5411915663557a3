import NIOCore
import PropertyBased
import Testing

@testable import LatticeProtocol

let serverMessageGen = Generator<ServerMessage, Shrink.None<ServerMessage>> { rng in randomServerMessage(using: &rng) }

func randomRequestID(using rng: inout some RandomNumberGenerator) -> RequestID? {
    switch Int.random(in: 0..<3, using: &rng) {
    case 0: nil
    case 1: RequestID(Int.random(in: Int.min...Int.max, using: &rng))
    default: RequestID(randomString(maxLength: 20, using: &rng))
    }
}

func randomOffset(using rng: inout some RandomNumberGenerator) -> Int {
    Bool.random(using: &rng) ? Int.random(in: 0...1000, using: &rng) : Int.random(in: 0...Int.max, using: &rng)
}

func randomStreamOffset(using rng: inout some RandomNumberGenerator) -> UInt64 {
    Bool.random(using: &rng) ? UInt64.random(in: 0...1000, using: &rng) : UInt64.random(in: 0...UInt64.max, using: &rng)
}

func randomEpoch(using rng: inout some RandomNumberGenerator) -> StreamEpoch {
    StreamEpoch(randomString(maxLength: 16, using: &rng))
}

func randomIdentity(using rng: inout some RandomNumberGenerator) -> Identity {
    Identity(id: randomString(maxLength: 12, using: &rng), name: randomString(maxLength: 20, using: &rng),
             kind: Identity.Kind.allCases.randomElement(using: &rng)!)
}

func randomObject(using rng: inout some RandomNumberGenerator) -> RawJSON {
    var state = randomJSON(using: &rng)
    while !state.hasPrefix("{") { state = randomJSON(using: &rng) }
    return RawJSON(validating: state)!
}

func randomMembers(using rng: inout some RandomNumberGenerator) -> [ServerMessage.Member] {
    (0..<Int.random(in: 0...3, using: &rng)).map { _ in
        ServerMessage.Member(
            identity: randomIdentity(using: &rng),
            metas: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                ServerMessage.Meta(conn: randomString(maxLength: 10, using: &rng), state: randomObject(using: &rng))
            })
    }
}

func randomCode(using rng: inout some RandomNumberGenerator) -> ErrorCode {
    Bool.random(using: &rng) ? ErrorCode.all.randomElement(using: &rng)! : ErrorCode(rawValue: randomString(maxLength: 12, using: &rng))
}

let knownServerTypes: Set<String> = ["welcome", "ok", "error", "event", "recovered", "presence", "presence.diff", "unsubscribed", "snapshot"]

func randomServerMessage(using rng: inout some RandomNumberGenerator) -> ServerMessage {
    let name = randomStreamName(using: &rng)
    func json(_ rng: inout some RandomNumberGenerator) -> RawJSON { RawJSON(validating: randomJSON(using: &rng))! }
    switch Int.random(in: 0..<10, using: &rng) {
    case 0:
        return .welcome(.init(
            protocolName: Bool.random(using: &rng) ? ProtocolVersion.v1 : randomString(maxLength: 12, using: &rng),
            session: randomString(maxLength: 16, using: &rng), identity: randomIdentity(using: &rng),
            limits: ProtocolLimits(
                maxMessageBytes: randomOffset(using: &rng), maxSubscriptions: randomOffset(using: &rng),
                maxStreamNameBytes: randomOffset(using: &rng), maxPresenceStateBytes: randomOffset(using: &rng)),
            heartbeatSeconds: randomOffset(using: &rng)))
    case 1:
        return .ok(.init(
            id: randomRequestID(using: &rng), stream: Bool.random(using: &rng) ? name : nil,
            epoch: Bool.random(using: &rng) ? randomEpoch(using: &rng) : nil,
            offset: Bool.random(using: &rng) ? randomStreamOffset(using: &rng) : nil))
    case 2:
        return .error(ProtocolError(
            randomCode(using: &rng), randomString(maxLength: 40, using: &rng), id: randomRequestID(using: &rng),
            stream: Bool.random(using: &rng) ? name : nil))
    case 3:
        return .event(.init(
            stream: name, epoch: randomEpoch(using: &rng), offset: randomStreamOffset(using: &rng),
            key: Bool.random(using: &rng) ? randomString(maxLength: 16, using: &rng) : nil, data: json(&rng)))
    case 4:
        return .recovered(.init(stream: name, recovered: Bool.random(using: &rng), epoch: randomEpoch(using: &rng),
                                offset: randomStreamOffset(using: &rng)))
    case 5:
        return .presence(.init(stream: name, members: randomMembers(using: &rng)))
    case 6:
        return .presenceDiff(.init(stream: name, joins: randomMembers(using: &rng), leaves: randomMembers(using: &rng),
                                   updates: randomMembers(using: &rng)))
    case 7:
        return .unsubscribed(.init(stream: name, code: randomCode(using: &rng), message: randomString(maxLength: 40, using: &rng)))
    case 8:
        return .snapshot(.init(stream: name, epoch: randomEpoch(using: &rng), offset: randomStreamOffset(using: &rng),
                               data: json(&rng)))
    default:
        var type = randomString(maxLength: 16, using: &rng)
        while knownServerTypes.contains(type) { type += "x" }
        return .unknown(type: type)
    }
}

@Suite struct ServerMessagePropertyTests {
    /// encode → decode gives the same value, for every server message type.
    @Test func serverMessagesRoundTrip() async {
        await propertyCheck(count: 1000, input: serverMessageGen) { message in
            let text = message.encoded
            #expect(ServerMessage.decode(text) == .success(message), "\(String(buffer: text))")
            #expect(foundationParse(text) is [String: Any], "\(String(buffer: text))")
        }
    }

    /// Every type is generated (so the round trip covers them all).
    @Test func generatorCoversEveryType() {
        var rng = SplitMix(seed: 7)
        var seen: Set<String> = []
        for _ in 0..<500 {
            let type = randomServerMessage(using: &rng).type
            seen.insert(knownServerTypes.contains(type) ? type : "unknown")
        }
        #expect(seen == knownServerTypes.union(["unknown"]))
    }

    /// Every client request type is generated by the request round trip's generator.
    @Test func requestGeneratorCoversEveryType() {
        var rng = SplitMix(seed: 7)
        var seen: Set<String> = []
        for _ in 0..<500 { seen.insert(randomRequest(using: &rng).type) }
        #expect(seen == ["subscribe", "unsubscribe", "publish", "presence.set", "ping"])
    }

    /// Damaged server messages never crash the decoder; a refusal carries a message.
    @Test func damagedServerMessagesNeverCrash() async {
        let damaged = Generator<[UInt8], Shrink.None<[UInt8]>> { rng in
            var bytes = Array(randomServerMessage(using: &rng).encoded.readableBytesView)
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            return bytes
        }
        await propertyCheck(count: 500, input: damaged) { bytes in
            switch ServerMessage.decode(ByteBuffer(bytes: bytes)) {
            case .success: #expect(foundationParse(bytes) is [String: Any], "accepted what Foundation refuses")
            case .failure(let error): #expect(!error.message.isEmpty)
            }
        }
    }
}
