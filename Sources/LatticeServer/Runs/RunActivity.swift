import Foundation
import LatticeAuth
import LatticeRuns
import LatticeStreams

/// The summary of a run on its workspace's activity stream (docs/protocol.md, "Workspace
/// activity"): started, waiting for approval, finished. Written to the outbox in the
/// transaction of the run event it summarizes, so the two are kept or lost together.
enum RunActivity {
    static func entries(for event: RunEvent, of record: RunRecord) -> [ActivityOutboxEntry] {
        let kind: WorkspaceActivity.Kind
        var fields = ["definition": record.header.definitionID, "version": String(record.header.version)]
        switch event.change {
        case .created:
            kind = .runStarted
        case .nodeWaiting(let node, _):
            kind = .runAwaitingApproval
            fields["node"] = node
        case .finished(let status, let reason):
            kind = .runFinished
            fields["status"] = status.rawValue
            if let reason { fields["reason"] = reason }
        default:
            return []
        }
        let header = record.header
        let actor = ActivityActor(id: header.actor, name: header.actorName ?? header.actor,
                                  kind: header.actorKind.flatMap(ActivityActor.Kind.init(rawValue:)) ?? .user)
        let activity = WorkspaceActivity(workspaceID: header.workspace, kind: kind, actor: actor,
                                         subject: .init(kind: "run", id: header.id),
                                         at: Date(timeIntervalSince1970: Double(event.at) / 1000), fields: fields)
        return [ActivityOutboxEntry(stream: activity.streamName, data: String(decoding: activity.json(), as: UTF8.self))]
    }
}

extension RunActivity {
    /// The activity of a definition change by `actor` (`definition.created`, `.updated`,
    /// `.deleted`), made from the stored version in the store's transaction.
    static func definition(_ kind: WorkspaceActivity.Kind, by actor: ActivityActor) -> DefinitionActivity {
        { stored in
            let activity = WorkspaceActivity(workspaceID: stored.workspace, kind: kind, actor: actor,
                                             subject: .init(kind: "definition", id: stored.id, name: stored.definition.name),
                                             at: Date(), fields: ["version": String(stored.version)])
            return [ActivityOutboxEntry(stream: activity.streamName, data: String(decoding: activity.json(), as: UTF8.self))]
        }
    }
}
