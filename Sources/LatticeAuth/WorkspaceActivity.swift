public import Foundation

/// Who did an action, as workspace activity shows it.
public struct ActivityActor: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A person, through the REST API, the web app or an invitation.
        case user
        /// A bot, through the REST API.
        case bot
        /// `lattice admin` on the server's machine (whoever can write its database).
        case local
        /// A definition's trigger (a run started by the server itself: `run.started`).
        case trigger
    }

    public var id: String
    public var name: String
    public var kind: Kind

    public init(id: String, name: String, kind: Kind) {
        self.id = id
        self.name = name
        self.kind = kind
    }

    public init(_ user: User) {
        self.init(id: user.id, name: user.name, kind: user.kind == .bot ? .bot : .user)
    }

    /// `lattice admin`, which acts on the database directly and has no user.
    public static let local = ActivityActor(id: "local", name: "lattice admin", kind: .local)
}

/// One workspace action as it appears on the durable stream `workspace/{ws}` (docs/protocol.md,
/// "Workspace activity"). The store records it in the transaction that makes the change, so an
/// action and its activity are both kept or both lost.
public struct WorkspaceActivity: Sendable, Equatable {
    /// The family of actions a type belongs to.
    public enum Area: String, Sendable, CaseIterable {
        case members, invitations, tokens, channels, workspace, runs, definitions
    }

    /// What happened; the raw value is the event's `type`.
    public enum Kind: String, Sendable, CaseIterable {
        case memberAdded = "member.added"
        case memberRoleChanged = "member.role_changed"
        case memberRemoved = "member.removed"
        case invitationCreated = "invitation.created"
        case invitationAccepted = "invitation.accepted"
        case invitationRevoked = "invitation.revoked"
        case tokenCreated = "token.created"
        case tokenRevoked = "token.revoked"
        case channelModeChanged = "channel.mode_changed"
        case workspaceRenamed = "workspace.renamed"
        case runStarted = "run.started"
        case runAwaitingApproval = "run.awaiting_approval"
        case runFinished = "run.finished"
        case definitionCreated = "definition.created"
        case definitionUpdated = "definition.updated"
        case definitionDeleted = "definition.deleted"

        public var area: Area {
            switch self {
            case .memberAdded, .memberRoleChanged, .memberRemoved: .members
            case .invitationCreated, .invitationAccepted, .invitationRevoked: .invitations
            case .tokenCreated, .tokenRevoked: .tokens
            case .channelModeChanged: .channels
            case .workspaceRenamed: .workspace
            case .runStarted, .runAwaitingApproval, .runFinished: .runs
            case .definitionCreated, .definitionUpdated, .definitionDeleted: .definitions
            }
        }
    }

    /// What the action was done to.
    public struct Subject: Sendable, Equatable {
        /// `user`, `invitation`, `token`, `channel`, `workspace`, `run` or `definition`.
        public var kind: String
        public var id: String
        /// A display name when the subject has one (a user's or workspace's name, a token's label).
        public var name: String?

        public init(kind: String, id: String, name: String? = nil) {
            self.kind = kind
            self.id = id
            self.name = name
        }
    }

    public var workspaceID: String
    public var kind: Kind
    public var actor: ActivityActor
    public var subject: Subject
    public var at: Date
    /// The type's own fields (docs/protocol.md lists them per type); never a secret.
    public var fields: [String: String]

    public init(workspaceID: String, kind: Kind, actor: ActivityActor, subject: Subject, at: Date,
                fields: [String: String] = [:]) {
        self.workspaceID = workspaceID
        self.kind = kind
        self.actor = actor
        self.subject = subject
        self.at = at
        self.fields = fields
    }

    /// The stream it is published on.
    public var streamName: String { "workspace/\(workspaceID)" }
}

// MARK: the actions

extension WorkspaceActivity {
    /// A membership change: added, role changed or removed; nil when the role did not change.
    public static func membership(of user: User, in workspaceID: String, from before: Role?, to after: Role?,
                                  by actor: ActivityActor, at: Date, reason: String? = nil) -> WorkspaceActivity? {
        let subject = Subject(kind: "user", id: user.id, name: user.name)
        var fields: [String: String] = [:]
        let kind: Kind
        switch (before, after) {
        case (nil, let role?):
            kind = .memberAdded
            fields["role"] = role.rawValue
        case (let old?, let role?) where old != role:
            kind = .memberRoleChanged
            fields["role"] = role.rawValue
            fields["previousRole"] = old.rawValue
        case (let old?, nil):
            kind = .memberRemoved
            fields["previousRole"] = old.rawValue
        default:
            return nil
        }
        if let reason { fields["reason"] = reason }
        return WorkspaceActivity(workspaceID: workspaceID, kind: kind, actor: actor, subject: subject, at: at, fields: fields)
    }

    /// An invitation created, accepted (`user` is who accepted) or revoked.
    public static func invitation(_ kind: Kind, _ invitation: Invitation, user: User? = nil,
                                  by actor: ActivityActor, at: Date) -> WorkspaceActivity {
        var fields = ["role": invitation.role.rawValue]
        if kind == .invitationCreated { fields["expiresAt"] = ActivityJSON.format(invitation.expiresAt) }
        if let user {
            fields["userID"] = user.id
            fields["userName"] = user.name
        }
        return WorkspaceActivity(workspaceID: invitation.workspaceID, kind: kind, actor: actor,
                                 subject: Subject(kind: "invitation", id: invitation.id), at: at, fields: fields)
    }

    /// A bot token (kind `bot`, or an `api` token of a bot user) created or revoked, in each
    /// workspace it can be used in: the one it is bound to, else each of the bot's workspaces
    /// (`memberships`). A person's own tokens and sessions are not workspace activity.
    public static func botToken(_ kind: Kind, _ token: TokenRecord, of user: User, memberships: [String],
                                by actor: ActivityActor, at: Date) -> [WorkspaceActivity] {
        guard token.kind == .bot || (token.kind == .api && user.kind == .bot) else { return [] }
        var fields = ["userID": user.id, "userName": user.name]
        if !token.capabilities.isEmpty { fields["capabilities"] = token.capabilities.joined(separator: ",") }
        if kind == .tokenCreated, let expires = token.expiresAt { fields["expiresAt"] = ActivityJSON.format(expires) }
        let subject = Subject(kind: "token", id: token.id, name: token.label.isEmpty ? nil : token.label)
        let workspaces = token.workspaceID.map { [$0] } ?? memberships.sorted()
        return workspaces.map {
            WorkspaceActivity(workspaceID: $0, kind: kind, actor: actor, subject: subject, at: at, fields: fields)
        }
    }

    /// A channel's class changed (`durable`, `coalescing` or `ephemeral`); nil when it did not.
    public static func channelMode(_ channel: String, in workspaceID: String, from before: String, to after: String,
                                   by actor: ActivityActor, at: Date) -> WorkspaceActivity? {
        guard before != after else { return nil }
        return WorkspaceActivity(workspaceID: workspaceID, kind: .channelModeChanged, actor: actor,
                                 subject: Subject(kind: "channel", id: "channel/\(workspaceID)/\(channel)", name: channel),
                                 at: at, fields: ["mode": after, "previousMode": before])
    }

    /// The workspace got a new name; nil when the name did not change.
    public static func renamed(_ workspace: Workspace, from previous: String, by actor: ActivityActor,
                               at: Date) -> WorkspaceActivity? {
        guard workspace.name != previous else { return nil }
        return WorkspaceActivity(workspaceID: workspace.id, kind: .workspaceRenamed, actor: actor,
                                 subject: Subject(kind: "workspace", id: workspace.id, name: workspace.name),
                                 at: at, fields: ["name": workspace.name, "previousName": previous])
    }
}

/// An activity recorded by the store and not yet published on its stream (the outbox the
/// server's activity relay drains; docs/architecture.md).
public struct PendingActivity: Sendable, Equatable {
    /// Increasing, never reused: the relay publishes in this order.
    public var seq: Int64
    public var stream: String
    /// The event's JSON (`WorkspaceActivity.json()`).
    public var data: Data

    public init(seq: Int64, stream: String, data: Data) {
        self.seq = seq
        self.stream = stream
        self.data = data
    }
}

extension Principal {
    /// The principal as the actor of what it does.
    public var actor: ActivityActor { ActivityActor(user) }
}
