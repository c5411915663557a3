import LatticeProtocol
import LatticeStreams
import NIOCore
import NIOPosix
@testable import LatticeServer

/// A hub on two real event loops of this process (so deliveries cross loops), over an
/// optional in-memory durable store; `close()` stops it and its loops.
struct HubFixture {
    let group: MultiThreadedEventLoopGroup
    let hub: StreamHub
    let store: MemoryDurableStreamStore?
    var loops: [any EventLoop] { hub.loops }

    static func make(durable: Bool = false, store durableStore: MemoryDurableStreamStore? = nil,
                     reducers: [StreamName.Kind: any StreamReducer] = [:],
                     settings: HubSettings = HubSettings()) async throws -> HubFixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var settings = settings
        settings.reducers = reducers
        let store = durableStore ?? (durable ? MemoryDurableStreamStore() : nil)
        let hub = try await StreamHub.make(group: group, settings: settings,
                                           durable: store.map { DurableStreams(store: $0, isDurableChannel: { _ in false }) })
        return HubFixture(group: group, hub: hub, store: store)
    }

    /// A recording subscriber on loop `loop` (0 or 1).
    func subscriber(on loop: Int, conn: UInt64 = .random(in: 1...UInt64.max)) async throws -> RecordingSubscriber {
        try await RecordingSubscriber.make(hub: hub, loop: loops[loop], conn: conn)
    }

    func close() async {
        await hub.stop()
        try? await group.shutdownGracefully()
    }
}

/// A stream name that must parse.
func testStream(_ name: String) -> StreamName {
    guard case .success(let parsed) = StreamName.parse(name) else { preconditionFailure("bad stream name \(name)") }
    return parsed
}

/// JSON that must be valid.
func testJSON(_ text: String) -> RawJSON {
    guard let raw = RawJSON(validating: text) else { preconditionFailure("bad JSON \(text)") }
    return raw
}

/// Sums the `n` of every event, and counts them: a small reducer to prove the snapshot seam.
struct SumReducer: StreamReducer {
    struct State {
        var count = 0
        var sum = 0
    }

    func initialState(for stream: StreamName) -> State { State() }

    func apply(_ event: ReducerEvent, to state: inout State) {
        let text = event.data.text
        // `{"n":K}`: the tests write exactly this shape.
        let digits = text.drop { !$0.isNumber }.prefix { $0.isNumber }
        state.count += 1
        state.sum += Int(digits) ?? 0
    }

    func snapshot(of state: State) -> RawJSON {
        testJSON("{\"count\":\(state.count),\"sum\":\(state.sum)}")
    }
}
