import Testing
@testable import LatticeServer

@Suite("ReadGate")
struct ReadGateTests {
    enum Event: CustomStringConvertible {
        case writable(Bool)
        case outstanding(Int)

        var description: String {
            switch self {
            case .writable(let w): "writable(\(w))"
            case .outstanding(let n): "outstanding(\(n))"
            }
        }
    }

    static let max = 8
    /// Both edges of both thresholds, and the values between them.
    static let alphabet: [Event] = [.writable(true), .writable(false)]
        + [0, 3, 4, 5, 7, 8, 9].map { Event.outstanding($0) }

    static func sequences(length: Int) -> [[Event]] {
        guard length > 0 else { return [[]] }
        return sequences(length: length - 1).flatMap { prefix in alphabet.map { prefix + [$0] } }
    }

    @Test("every sequence of 4 events: actions report exactly the changes, and reading means writable and not throttled")
    func everySequence() {
        for events in Self.sequences(length: 4) {
            var gate = ReadGate(maxInFlight: Self.max)
            var reading = true  // what the socket was told, starting from NIO's default
            var throttled = false  // the model: on at max, off at max/2, kept between
            var writable = true
            for event in events {
                let action: ReadGate.Action?
                switch event {
                case .writable(let w):
                    writable = w
                    action = gate.writabilityChanged(w)
                case .outstanding(let n):
                    if n >= Self.max { throttled = true } else if n <= Self.max / 2 { throttled = false }
                    action = gate.outstandingChanged(n)
                }
                let expected = writable && !throttled
                switch action {
                case .startReading?:
                    #expect(!reading, "start while reading after \(events)")
                    reading = true
                case .stopReading?:
                    #expect(reading, "stop while stopped after \(events)")
                    reading = false
                case nil:
                    break
                }
                #expect(reading == expected, "after \(events)")
                #expect(gate.isReading == reading && gate.isThrottled == throttled && gate.isWritable == writable, "after \(events)")
            }
        }
    }

    @Test("hysteresis: throttled at the limit, still throttled just below it, reading again at half")
    func hysteresis() {
        var gate = ReadGate(maxInFlight: 128)
        #expect(gate.outstandingChanged(127) == nil)
        #expect(gate.outstandingChanged(128) == .stopReading)
        #expect(gate.outstandingChanged(100) == nil)
        #expect(gate.outstandingChanged(65) == nil)
        #expect(gate.outstandingChanged(64) == .startReading)
        #expect(gate.outstandingChanged(127) == nil)
    }

    @Test("an unwritable socket is not read; writable again, it is read only if not throttled")
    func writability() {
        var gate = ReadGate(maxInFlight: 4)
        #expect(gate.writabilityChanged(false) == .stopReading)
        #expect(gate.outstandingChanged(4) == nil)
        #expect(gate.writabilityChanged(true) == nil)
        #expect(gate.outstandingChanged(2) == .startReading)
        var unwritableAtStart = ReadGate(maxInFlight: 4)
        #expect(unwritableAtStart.writabilityChanged(false) == .stopReading)
        #expect(unwritableAtStart.writabilityChanged(false) == nil)
    }
}
