import GRDB
import LatticeProtocol
import LatticeStreams
import Synchronization

/// Every stream's head, in memory, so `head(of:)` never touches the database.
///
/// The writer thread is the only one that advances `newestOffset` (after a commit) and
/// `oldestOffset` (after retention); any thread may add a fresh head for an unknown stream.
final class HeadCache: Sendable {
    private let heads: Mutex<[String: DurableStreamHead]>

    init(_ heads: [String: DurableStreamHead]) {
        self.heads = Mutex(heads)
    }

    /// Every row of `streams`.
    static func load(_ db: Database) throws -> [String: DurableStreamHead] {
        var heads: [String: DurableStreamHead] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, epoch, newest_offset, oldest_offset FROM streams") {
            heads[row["name"]] = head(from: row)
        }
        return heads
    }

    static func head(from row: Row) -> DurableStreamHead {
        DurableStreamHead(epoch: StreamEpoch(row["epoch"]),
                          newestOffset: UInt64(row["newest_offset"] as Int64),
                          oldestOffset: UInt64(row["oldest_offset"] as Int64))
    }

    /// The head of `stream`; a stream never seen gets a random epoch, kept in memory only.
    func head(of stream: String) -> DurableStreamHead {
        heads.withLock { heads in
            if let head = heads[stream] { return head }
            let head = DurableStreamHead(epoch: .random(), newestOffset: 0, oldestOffset: 1)
            heads[stream] = head
            return head
        }
    }

    func setNewest(_ offset: UInt64, of stream: String) {
        heads.withLock { $0[stream]?.newestOffset = offset }
    }

    func setOldest(_ offset: UInt64, of stream: String) {
        heads.withLock { $0[stream]?.oldestOffset = offset }
    }

    func replace(_ head: DurableStreamHead, of stream: String) {
        heads.withLock { $0[stream] = head }
    }

    /// The streams that have stored events (those retention looks at).
    func storedStreams() -> [(String, DurableStreamHead)] {
        heads.withLock { heads in heads.filter { $0.value.newestOffset > 0 }.map { ($0.key, $0.value) } }
    }
}
