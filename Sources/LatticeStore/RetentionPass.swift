import GRDB
import LatticeStreams

/// Trims stored events by each stream's retention. Keeps every stream's events contiguous (it
/// only ever raises the oldest offset) and never deletes the newest event.
struct RetentionPass {
    let streams: [(String, DurableStreamHead)]
    let retention: @Sendable (String) -> StreamRetention
    let nowMillis: Int64

    /// Deletes what retention drops; returns the streams whose oldest offset moved, with it.
    func apply(_ db: Database) throws -> [String: UInt64] {
        var moved: [String: UInt64] = [:]
        for (stream, head) in streams {
            let keepFrom = try firstKept(stream, head, retention(stream), db)
            guard keepFrom > head.oldestOffset else { continue }
            try db.execute(sql: "DELETE FROM stream_events WHERE stream = ? AND offset < ?",
                           arguments: [stream, Int64(keepFrom)])
            try db.execute(sql: "UPDATE streams SET oldest_offset = ? WHERE name = ?",
                           arguments: [Int64(keepFrom), stream])
            moved[stream] = keepFrom
        }
        return moved
    }

    /// The lowest offset `retention` keeps (at most `newestOffset`).
    private func firstKept(_ stream: String, _ head: DurableStreamHead, _ retention: StreamRetention,
                           _ db: Database) throws -> UInt64 {
        var keepFrom = head.oldestOffset
        if let maxEvents = retention.maxEvents {
            let keep = UInt64(max(1, maxEvents))
            if head.newestOffset >= keep {
                keepFrom = max(keepFrom, head.newestOffset - keep + 1)
            }
        }
        if let maxAge = retention.maxAge, keepFrom < head.newestOffset {
            // The first event young enough; everything below it goes, so no hole opens even if
            // the clock once stepped back. Walks the primary key from the oldest kept event.
            let cutoff = nowMillis - Int64(maxAge.timeInterval * 1000)
            let young = try Int64.fetchOne(db, sql: """
                SELECT offset FROM stream_events
                WHERE stream = ? AND offset >= ? AND time_ms >= ?
                ORDER BY offset LIMIT 1
                """, arguments: [stream, Int64(keepFrom), cutoff])
            keepFrom = max(keepFrom, young.map(UInt64.init) ?? head.newestOffset)
        }
        return min(keepFrom, head.newestOffset)
    }
}
