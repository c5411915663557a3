public import Foundation

/// The JSON of an activity event (docs/protocol.md, "Workspace activity"):
/// `{"area","type","workspace","actor":{"id","name","kind"},"subject":{"kind","id","name"?},"at","fields":{…}}`.
extension WorkspaceActivity {
    public func json() -> Data {
        var subjectObject: [String: Any] = ["kind": subject.kind, "id": subject.id]
        if let name = subject.name { subjectObject["name"] = name }
        let object: [String: Any] = [
            "area": kind.area.rawValue,
            "type": kind.rawValue,
            "workspace": workspaceID,
            "actor": ["id": actor.id, "name": actor.name, "kind": actor.kind.rawValue],
            "subject": subjectObject,
            "at": ActivityJSON.format(at),
            "fields": fields,
        ]
        // Only strings, dictionaries of strings and nested objects of them: always encodable.
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// Reads an event back (tests, clients written in Swift); nil when it is not one.
    public static func decode(_ data: Data) -> WorkspaceActivity? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let kind = (object["type"] as? String).flatMap(Kind.init(rawValue:)),
              let workspace = object["workspace"] as? String,
              let actor = object["actor"] as? [String: String],
              let actorID = actor["id"], let actorName = actor["name"],
              let actorKind = actor["kind"].flatMap(ActivityActor.Kind.init(rawValue:)),
              let subject = object["subject"] as? [String: String],
              let subjectKind = subject["kind"], let subjectID = subject["id"],
              let at = (object["at"] as? String).flatMap(ActivityJSON.parse),
              let fields = object["fields"] as? [String: String]
        else { return nil }
        return WorkspaceActivity(workspaceID: workspace, kind: kind,
                                 actor: ActivityActor(id: actorID, name: actorName, kind: actorKind),
                                 subject: Subject(kind: subjectKind, id: subjectID, name: subject["name"]),
                                 at: at, fields: fields)
    }
}

/// Times in activity events: RFC 3339 in UTC with milliseconds, as the REST API writes them.
public enum ActivityJSON {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    public static func format(_ date: Date) -> String {
        date.formatted(style)
    }

    public static func parse(_ text: String) -> Date? {
        try? style.parse(text)
    }
}
