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
    /// Upserts the run's row as it is after the event (`RunRowWrite`) and records the workspace
    /// activity the event leads to (a run's summary) in the outbox.
    case writeRunRow(RunRecord, activity: [ActivityOutboxEntry])
    /// Records workspace activity in the outbox (a definition change, or the activity of a run
    /// row write a later event of the batch supersedes).
    case recordActivity([ActivityOutboxEntry])

    /// The run whose row this writes, if any.
    var runRow: RunRecord? {
        if case .writeRunRow(let record, _) = self { record } else { nil }
    }

    /// The same write without its run row (a later event of the batch writes the row).
    var withoutRunRow: AttachmentWrite {
        if case .writeRunRow(_, let activity) = self { .recordActivity(activity) } else { self }
    }

    /// What to write for `attachment`; nil for a type this store does not know.
    init?(_ attachment: any DurableAppendAttachment) {
        switch attachment {
        case let relay as OutboxRelay: self = .removeOutboxEntry(seq: relay.seq)
        case let row as RunRowWrite: self = .writeRunRow(row.record, activity: row.activity)
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
        case .writeRunRow(let record, let activity):
            try SQLiteStore.writeRunRow(record, db)
            try AttachmentWrite.recordActivity(activity).apply(db)
        case .recordActivity(let entries):
            guard !entries.isEmpty else { return }
            let insert = try db.cachedStatement(sql: "INSERT INTO activity_outbox (stream, data) VALUES (?, ?)")
            for entry in entries {
                try insert.execute(arguments: [entry.stream, Data(entry.data.utf8)])
            }
        }
    }
}
