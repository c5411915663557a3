import Foundation
import GRDB
public import LatticeStreams
public import NIOCore

extension SQLiteStore: DurableStreamStore {
    public func head(of stream: String) -> DurableStreamHead {
        heads.head(of: stream)
    }

    public func append(stream: String, data: ByteBuffer, key: String?, attachment: (any DurableAppendAttachment)?,
                       completion: @escaping @Sendable (Result<UInt64, DurableAppendError>) -> Void) {
        writer.append(PendingAppend(stream: stream, data: data, key: key, attachment: attachment, completion: completion))
    }

    public func read(stream: String, after: UInt64, limit: Int) async throws -> [StoredStreamEvent] {
        guard limit > 0 else { return [] }
        // Mapped inside the read: rows are not Sendable (and the async `read` needs a Sendable result).
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT offset, data, key, time_ms FROM stream_events
                WHERE stream = ? AND offset > ? ORDER BY offset LIMIT ?
                """, arguments: [stream, Int64(clamping: after), limit]).map { row in
                let data: Data = row["data"]
                return StoredStreamEvent(offset: UInt64(row["offset"] as Int64), data: ByteBuffer(bytes: data),
                                         key: row["key"], timeMillis: row["time_ms"])
            }
        }
    }

    /// Applies every stream's retention now, on the writer thread, after the appends queued
    /// before it (the writer also does this every `retentionCheckInterval`).
    public func applyRetention() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            writer.requestRetention { continuation.resume(with: $0) }
        }
    }
}
