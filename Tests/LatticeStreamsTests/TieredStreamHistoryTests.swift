import LatticeStreams
import NIOCore
import Testing

@Suite("tiered history: memory tail over a store")
struct TieredStreamHistoryTests {
    static func event(_ offset: UInt64) -> StreamEvent {
        StreamEvent(offset: offset, payload: ByteBuffer(string: "e\(offset)"), timestamp: .now())
    }

    @Test("after a restart (empty tail at offset 100, store from 1): older reads need the store")
    func restarted() {
        var history = TieredStreamHistory(limits: HistoryLimits(maxEvents: 10, maxBytes: 1 << 20, maxAge: nil),
                                          newestOffset: 100, storeOldestOffset: 1)
        #expect(history.oldestOffset == 1)
        #expect(history.reaches(after: 0))
        guard case .needsStore(let range) = history.read(after: 40, limit: 5) else { Issue.record("expected needsStore"); return }
        #expect(range == 41...100)
        guard case .events(let none) = history.read(after: 100, limit: 5) else { Issue.record("expected events"); return }
        #expect(none.isEmpty)
        for offset in 101...105 { history.append(Self.event(offset)) }
        guard case .events(let events) = history.read(after: 102, limit: 10) else { Issue.record("expected events"); return }
        #expect(events.map(\.offset) == [103, 104, 105])
        guard case .needsStore(let older) = history.read(after: 99, limit: 10) else { Issue.record("expected needsStore"); return }
        #expect(older == 100...100)
    }

    @Test("below the store's oldest offset: unavailable; the tail trims by count as usual")
    func retention() {
        var history = TieredStreamHistory(limits: HistoryLimits(maxEvents: 3, maxBytes: 1 << 20, maxAge: nil),
                                          newestOffset: 0, storeOldestOffset: 1)
        for offset in 1...10 { history.append(Self.event(offset)) }
        #expect(history.tail.oldestOffset == 8)
        history.storeOldestOffset = 5
        guard case .unavailable = history.read(after: 3, limit: 1) else { Issue.record("expected unavailable"); return }
        guard case .needsStore(let range) = history.read(after: 4, limit: 1) else { Issue.record("expected needsStore"); return }
        #expect(range == 5...7)
        #expect(history.oldestOffset == 5)
    }

    @Test("without a store it is its memory tail")
    func memoryOnly() {
        var history = TieredStreamHistory(limits: HistoryLimits(maxEvents: 3, maxBytes: 1 << 20, maxAge: nil))
        for offset in 1...5 { history.append(Self.event(offset)) }
        #expect(history.oldestOffset == 3)
        guard case .unavailable = history.read(after: 1, limit: 1) else { Issue.record("expected unavailable"); return }
    }
}
