import GRDB
import LatticeRuns
import LatticeStreams

/// An append's attachment as the SQLite writer applies it: the attachments this store knows,
/// resolved before the batch transaction so that one it does not know fails only its own
/// append (its event is not stored) and the rest of the batch still commits.
enum AttachmentWrite {
    /// Removes the activity outbox entry the event publishes.
    case removeOutboxEntry(seq: Int64)
    /// Upserts the run's row as it is after the event (`RunRowWrite`).
    case writeRunRow(RunRecord)

    /// What to write for `attachment`; nil for a type this store does not know.
    init?(_ attachment: any DurableAppendAttachment) {
        switch attachment {
        case let relay as OutboxRelay: self = .removeOutboxEntry(seq: relay.seq)
        case let row as RunRowWrite: self = .writeRunRow(row.record)
        default: return nil
        }
    }

    /// The refusal of an attachment this store does not know.
    static func unknown(_ attachment: any DurableAppendAttachment) -> DurableAppendError {
        .storeFailed("unknown attachment \(type(of: attachment)): this store does not know how to write it")
    }

    /// Makes the write, inside the transaction that stores the event.
    func apply(_ db: Database) throws {
        switch self {
        case .removeOutboxEntry(let seq):
            try db.execute(sql: "DELETE FROM activity_outbox WHERE seq = ?", arguments: [seq])
        case .writeRunRow(let record):
            try SQLiteStore.writeRunRow(record, db)
        }
    }
}
