public import LatticeProtocol
import NIOCore

/// One accepted event as a reducer sees it: its offset, its `data` and its `key`.
public struct ReducerEvent {
    public var offset: UInt64
    public var data: RawJSON
    public var key: String?

    public init(offset: UInt64, data: RawJSON, key: String?) {
        self.offset = offset
        self.data = data
        self.key = key
    }
}

/// Folds a stream's events into a state and shows that state as a snapshot: the seam through
/// which "snapshot at offset N, then live from N + 1" is served (docs/streams.md, "Snapshots").
///
/// Pure: no I/O, no clock. The hub keeps one state per loaded stream on the stream's home loop
/// and applies every accepted event there, in offset order, right where it fans the event out,
/// so a snapshot and the live events after it can never overlap or leave a hole.
public protocol StreamReducer: Sendable {
    associatedtype State

    /// The state of `stream` before its first event.
    func initialState(for stream: StreamName) -> State
    /// Applies one accepted event (the next offset) to `state`.
    func apply(_ event: ReducerEvent, to state: inout State)
    /// The state as one JSON value (the `data` of the `snapshot` message).
    func snapshot(of state: State) -> RawJSON
}

/// The state of one stream under its reducer, and the offset it has applied through. Not
/// Sendable: it lives on the stream's home loop.
public final class ReducerState {
    /// Every event up to and including this offset has been applied (0: none).
    public private(set) var appliedThrough: UInt64
    private let applyEvent: (ReducerEvent) -> Void
    private let makeSnapshot: () -> RawJSON

    /// The state of `stream` before any event.
    public init<Reducer: StreamReducer>(_ reducer: Reducer, stream: StreamName) {
        let box = Box(reducer.initialState(for: stream))
        appliedThrough = 0
        applyEvent = { reducer.apply($0, to: &box.state) }
        makeSnapshot = { reducer.snapshot(of: box.state) }
    }

    /// Applies `event` if it is the next offset and returns true; an event out of order (one
    /// the state has already seen, or one past a hole still being read) is left out.
    @discardableResult
    public func apply(_ event: ReducerEvent) -> Bool {
        guard event.offset == appliedThrough + 1 else { return false }
        applyEvent(event)
        appliedThrough = event.offset
        return true
    }

    /// The snapshot at `appliedThrough`.
    public func snapshot() -> RawJSON { makeSnapshot() }

    private final class Box<State> {
        var state: State
        init(_ state: State) { self.state = state }
    }
}
