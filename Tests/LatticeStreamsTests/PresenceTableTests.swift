import LatticeProtocol
import NIOCore
import Testing

@testable import LatticeStreams

let c1 = ConnectionID(1)
let c2 = ConnectionID(2)
let c3 = ConnectionID(3)

@Suite struct PresenceTableTests {
    func member(_ identity: String, _ metas: [(ConnectionID, String)], kind: Identity.Kind = .user) -> PresenceRecord {
        PresenceRecord(identity: identity, kind: kind, metas: metas.map { PresenceMeta(conn: $0.0, state: json($0.1)) })
    }

    @Test func firstSetJoinsAtOnce() {
        var t = PresenceTable()
        #expect(t.set(conn: c1, identity: "ann", kind: .user, state: json(#"{"s":1}"#), now: at(0)) == .accepted)
        #expect(t.fullState().isEmpty, "published state changes only on flush")
        #expect(t.nextFlush == at(0))
        #expect(t.flush(now: at(0)) == PresenceDiff(joins: [member("ann", [(c1, #"{"s":1}"#)])]))
        #expect(t.fullState() == [member("ann", [(c1, #"{"s":1}"#)])])
        #expect(t.flush(now: at(1)) == nil)
        #expect(t.nextFlush == nil)
    }

    @Test func severalConnectionsOfOneIdentityAreOneMemberWithSeveralMetas() {
        var t = PresenceTable()
        t.set(conn: c2, identity: "ann", kind: .user, state: json("2"), now: at(0))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        t.set(conn: c3, identity: "bot-7", kind: .bot, state: json("3"), now: at(0))
        let diff = t.flush(now: at(0))
        #expect(diff == PresenceDiff(joins: [member("ann", [(c1, "1"), (c2, "2")]), member("bot-7", [(c3, "3")], kind: .bot)]))
        #expect(t.memberCount == 2)
        #expect(t.metaCount == 3)
        #expect(t.stateBytes == 3)
    }

    @Test func memberLeavesOnlyWithItsLastConnection() {
        var t = PresenceTable()
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        t.set(conn: c2, identity: "ann", kind: .user, state: json("2"), now: at(0))
        _ = t.flush(now: at(0))
        let removed1 = t.remove(conn: c1)
        #expect(removed1)
        #expect(t.flush(now: at(100)) == PresenceDiff(updates: [member("ann", [(c2, "2")])]))
        let removed2 = t.remove(conn: c2)
        let removedAgain = t.remove(conn: c2)
        #expect(removed2)
        #expect(!removedAgain)
        #expect(t.flush(now: at(200)) == PresenceDiff(leaves: ["ann"]))
        #expect(t.fullState().isEmpty)
        #expect(t.stateBytes == 0)
        #expect(t.metaCount == 0)
    }

    @Test func updatesAreCoalescedToOnePerMemberPerInterval() {
        var t = PresenceTable(config: PresenceConfig(coalesceInterval: .milliseconds(50)))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        #expect(t.flush(now: at(0))?.joins.count == 1)
        t.set(conn: c1, identity: "ann", kind: .user, state: json("2"), now: at(10))
        #expect(t.flush(now: at(10)) == nil)
        t.set(conn: c1, identity: "ann", kind: .user, state: json("3"), now: at(20))
        #expect(t.nextFlush == at(50))
        #expect(t.flush(now: at(49)) == nil)
        #expect(t.flush(now: at(50)) == PresenceDiff(updates: [member("ann", [(c1, "3")])]))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("4"), now: at(60))
        #expect(t.nextFlush == at(100))
    }

    @Test func membersAreRateLimitedIndependently() {
        var t = PresenceTable()
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        _ = t.flush(now: at(0))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("2"), now: at(10))
        t.set(conn: c2, identity: "bob", kind: .user, state: json("1"), now: at(10))
        #expect(t.flush(now: at(10)) == PresenceDiff(joins: [member("bob", [(c2, "1")])]))
        #expect(t.flush(now: at(50)) == PresenceDiff(updates: [member("ann", [(c1, "2")])]))
    }

    @Test func joinAndLeaveWithinAnIntervalProduceNothing() {
        var t = PresenceTable()
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        _ = t.flush(now: at(0))
        t.remove(conn: c1)
        t.set(conn: c2, identity: "bob", kind: .user, state: json("1"), now: at(5))
        t.remove(conn: c2)
        #expect(t.flush(now: at(10)) == nil, "bob came and went unseen; ann's leave waits")
        #expect(t.flush(now: at(50)) == PresenceDiff(leaves: ["ann"]))
    }

    @Test func revertingWithinAnIntervalProducesNothing() {
        var t = PresenceTable()
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        _ = t.flush(now: at(0))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("2"), now: at(10))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(20))
        #expect(t.flush(now: at(60)) == nil)
    }

    @Test func settingTheSameStateIsNoChange() {
        var t = PresenceTable()
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        _ = t.flush(now: at(0))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(100))
        #expect(!t.hasPendingChanges)
    }

    @Test func heartbeatsKeepMetasAndSilenceExpiresThem() {
        var t = PresenceTable(config: PresenceConfig(metaTimeout: .seconds(60)))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        t.set(conn: c2, identity: "ann", kind: .user, state: json("2"), now: at(0))
        _ = t.flush(now: at(0))
        t.heartbeat(conn: c1, now: at(50_000))
        #expect(t.expire(now: at(60_000)).isEmpty)
        #expect(t.expire(now: at(60_001)) == [c2])
        #expect(t.expire(now: at(110_001)) == [c1])
        #expect(t.flush(now: at(110_001)) == PresenceDiff(leaves: ["ann"]))
    }

    @Test func refusesBeyondMaxMetasAndIdentityChanges() {
        var t = PresenceTable(config: PresenceConfig(maxMetas: 2))
        #expect(t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0)) == .accepted)
        #expect(t.set(conn: c1, identity: "bob", kind: .user, state: json("1"), now: at(0)) == .identityMismatch)
        #expect(t.set(conn: c2, identity: "bob", kind: .user, state: json("1"), now: at(0)) == .accepted)
        #expect(t.set(conn: c3, identity: "cy", kind: .user, state: json("1"), now: at(0)) == .tooManyMetas)
        #expect(t.set(conn: c2, identity: "bob", kind: .user, state: json("22"), now: at(0)) == .accepted, "updates still pass")
        #expect(t.stateBytes == 3)
        t.remove(conn: c1)
        #expect(t.set(conn: c3, identity: "cy", kind: .user, state: json("1"), now: at(0)) == .accepted)
    }

    @Test func fullStatePlusLaterDiffsReachesTheCurrentState() {
        var t = PresenceTable()
        t.set(conn: c1, identity: "ann", kind: .user, state: json("1"), now: at(0))
        _ = t.flush(now: at(0))
        t.set(conn: c1, identity: "ann", kind: .user, state: json("2"), now: at(10))
        var view = PresenceView(fullState: t.fullState())
        #expect(view.sorted == [member("ann", [(c1, "1")])])
        view.apply(t.flush(now: at(50))!)
        #expect(view.sorted == t.currentState())
    }
}
