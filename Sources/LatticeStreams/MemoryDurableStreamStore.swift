import LatticeProtocol
import Dispatch
public import NIOCore
import Synchronization

/// A `DurableStreamStore` in memory, for tests of what sits on a durable store: it keeps the
/// same contract (offsets assigned at commit, completions in commit order, never on the
/// caller's stack) and can hold commits back or fail them, to test what waits on a commit.
public final class MemoryDurableStreamStore: DurableStreamStore {
    private struct Stream {
        var head: DurableStreamHead
        var events: [StoredStreamEvent] = []
    }

    private struct Pending {
        let stream: String
        let data: ByteBuffer
        let key: String?
        let attachment: (any DurableAppendAttachment)?
        let completion: @Sendable (Result<UInt64, DurableAppendError>) -> Void
    }

    private struct State {
        var streams: [String: Stream] = [:]
        var held: [Pending] = []
        var holding = false
        var failing: String?
        var relayed: [Int64] = []
    }

    private let state = Mutex(State())
    /// Completions run here, one after another: in commit order, off the caller's stack.
    private let completions = DispatchQueue(label: "MemoryDurableStreamStore.completions")

    /// Called at commit (under the store's lock, in commit order) with every committed
    /// append's attachment: how a memory adapter (`MemoryRunStore.apply`) makes the write a
    /// SQLite store would make in the event's transaction.
    private let onAttachment: (@Sendable (any DurableAppendAttachment) -> Void)?

    public init(onAttachment: (@Sendable (any DurableAppendAttachment) -> Void)? = nil) {
        self.onAttachment = onAttachment
    }

    public func head(of stream: String) -> DurableStreamHead {
        state.withLock { Self.stream(stream, in: &$0).head }
    }

    public func append(stream: String, data: ByteBuffer, key: String?, attachment: (any DurableAppendAttachment)?,
                       completion: @escaping @Sendable (Result<UInt64, DurableAppendError>) -> Void) {
        let pending = Pending(stream: stream, data: data, key: key, attachment: attachment, completion: completion)
        let ready: [Pending] = state.withLock { state in
            state.held.append(pending)
            guard !state.holding else { return [] }
            defer { state.held.removeAll() }
            return state.held
        }
        commit(ready)
    }

    public func read(stream: String, after: UInt64, limit: Int) async throws -> [StoredStreamEvent] {
        state.withLock { state in
            Array(Self.stream(stream, in: &state).events.lazy.filter { $0.offset > after }.prefix(limit))
        }
    }

    /// Appends wait (uncommitted, unacknowledged) until `release()`.
    public func hold() {
        state.withLock { $0.holding = true }
    }

    /// How many appends are held (waiting for `release()`).
    public var heldCount: Int {
        state.withLock { $0.held.count }
    }

    /// Commits every held append, in order, and stops holding.
    public func release() {
        let ready: [Pending] = state.withLock { state in
            state.holding = false
            defer { state.held.removeAll() }
            return state.held
        }
        commit(ready)
    }

    /// Appends fail with `message` (nothing stored) until called with nil.
    public func failAppends(_ message: String?) {
        state.withLock { $0.failing = message }
    }

    /// Removes stored events up to `offset`, as retention does.
    public func trim(_ stream: String, through offset: UInt64) {
        state.withLock { state in
            var entry = Self.stream(stream, in: &state)
            entry.events.removeAll { $0.offset <= offset }
            entry.head.oldestOffset = max(entry.head.oldestOffset, offset + 1)
            state.streams[stream] = entry
        }
    }

    /// The outbox seqs committed appends relayed (`OutboxRelay`), in commit order (an outbox in memory is not
    /// this store's: a test removes them from its `MemoryIdentityStore`).
    public var relayed: [Int64] {
        state.withLock { $0.relayed }
    }

    /// The store's events of `stream`, oldest first.
    public func events(of stream: String) -> [StoredStreamEvent] {
        state.withLock { Self.stream(stream, in: &$0).events }
    }

    private func commit(_ appends: [Pending]) {
        guard !appends.isEmpty else { return }
        let results: [(Pending, Result<UInt64, DurableAppendError>)] = state.withLock { state in
            appends.map { pending in
                if let failing = state.failing { return (pending, .failure(.storeFailed(failing))) }
                var entry = Self.stream(pending.stream, in: &state)
                let offset = entry.head.newestOffset + 1
                entry.events.append(StoredStreamEvent(offset: offset, data: pending.data, key: pending.key, timeMillis: 0))
                entry.head.newestOffset = offset
                state.streams[pending.stream] = entry
                if let attachment = pending.attachment {
                    if let relay = attachment as? OutboxRelay { state.relayed.append(relay.seq) }
                    onAttachment?(attachment)
                }
                return (pending, .success(offset))
            }
        }
        completions.async { for (pending, result) in results { pending.completion(result) } }
    }

    private static func stream(_ name: String, in state: inout State) -> Stream {
        if let stream = state.streams[name] { return stream }
        let stream = Stream(head: DurableStreamHead(epoch: .random(), newestOffset: 0, oldestOffset: 1))
        state.streams[name] = stream
        return stream
    }
}
