import Foundation
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
    /// Records workspace activity in the outbox (a run's summary), for the relay to publish.
    case recordActivity([ActivityOutboxEntry])
    /// Both, for one event.
    case writeRunRowAndActivity(RunRecord, [ActivityOutboxEntry])

    /// The run whose row this writes, if any.
    var runRow: RunRecord? {
        switch self {
        case .writeRunRow(let record), .writeRunRowAndActivity(let record, _): record
        case .removeOutboxEntry, .recordActivity: nil
        }
    }

    /// The same write without its run row (a later event of the batch writes the row).
    var withoutRunRow: AttachmentWrite? {
        switch self {
        case .writeRunRow: nil
        case .writeRunRowAndActivity(_, let activity): .recordActivity(activity)
        case .removeOutboxEntry, .recordActivity: self
        }
    }

    /// What to write for `attachment`; nil for a type this store does not know.
    init?(_ attachment: any DurableAppendAttachment) {
        switch attachment {
        case let relay as OutboxRelay: self = .removeOutboxEntry(seq: relay.seq)
        case let row as RunRowWrite: self = row.activity.isEmpty ? .writeRunRow(row.record) : .writeRunRowAndActivity(row.record, row.activity)
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
            try db.cachedStatement(sql: "DELETE FROM activity_outbox WHERE seq = ?").execute(arguments: [seq])
        case .writeRunRow(let record):
            try SQLiteStore.writeRunRow(record, db)
        case .recordActivity(let entries):
            let insert = try db.cachedStatement(sql: "INSERT INTO activity_outbox (stream, data) VALUES (?, ?)")
            for entry in entries {
                try insert.execute(arguments: [entry.stream, Data(entry.data.utf8)])
            }
        case .writeRunRowAndActivity(let record, let entries):
            try AttachmentWrite.writeRunRow(record).apply(db)
            try AttachmentWrite.recordActivity(entries).apply(db)
        }
    }
}
