import LatticeClient
import LatticeProtocol
import Testing

/// What the `lattice.v1` client does without a server: decoding, encoding helpers, backoff.
@Suite("Client: decoding and backoff (no server)")
struct ClientUnitTests {
    // The client reads messages with LatticeProtocol's decoder (ServerMessage.decode), tested in
    // LatticeProtocolTests and by the shared vectors (Tests/vectors/protocol); what the client
    // itself relies on is checked here.

    @Test("event data stays verbatim: whitespace, escapes, nesting, scalars")
    func eventVerbatim() throws {
        let datas = [#"{ "text" : "hi \"there\" \u00e9 }{" , "n":[1, {"a":[]}] }"#, "null", "-1.5e3", #""a,b}""#, "[]", "true"]
        for data in datas {
            let text = #"{"type":"event","stream":"channel/demo/b","epoch":"e1","offset":7,"key":"k\n","data":"# + data + "}"
            guard case .success(.event(let e)) = ServerMessage.decode(text) else {
                Issue.record("not an event: \(text)")
                continue
            }
            #expect(e.data.text == data)
            #expect(e.key == "k\n")
            #expect(e.position == StreamPosition(epoch: "e1", offset: 7))
        }
    }

    @Test("presence diffs apply by identity id")
    func presence() throws {
        let diff = ServerMessage.decode("""
            {"type":"presence.diff","stream":"doc/d","joins":[{"id":"u_7","name":"Bob","kind":"user","metas":[{"conn":"aa","state":{}}]}],\
            "leaves":[{"id":"u_42","name":"Ada","kind":"user","metas":[{"conn":"04","state":{}}]}],"updates":[]}
            """)
        guard case .success(.presenceDiff(let d)) = diff else { Issue.record("not a diff: \(diff)"); return }
        let ada = ServerMessage.Member(identity: Identity(id: "u_42", name: "Ada", kind: .user), metas: [])
        var members = ["u_42": ada]
        d.apply(to: &members)
        #expect(members.keys.sorted() == ["u_7"])
    }

    @Test("backoff: exponential ceiling capped at max, full jitter within it")
    func backoff() {
        let policy = ReconnectPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(2))
        #expect(policy.ceiling(attempt: 0) == .milliseconds(100))
        #expect(policy.ceiling(attempt: 1) == .milliseconds(200))
        #expect(policy.ceiling(attempt: 4) == .milliseconds(1600))
        #expect(policy.ceiling(attempt: 5) == .seconds(2))
        #expect(policy.ceiling(attempt: 1000) == .seconds(2))
        var rng = SystemRandomNumberGenerator()
        for attempt in 0..<12 {
            var seen: Set<Duration> = []
            for _ in 0..<200 {
                let d = policy.delay(attempt: attempt, using: &rng)
                #expect(d >= .zero && d <= policy.ceiling(attempt: attempt))
                seen.insert(d)
            }
            #expect(seen.count > 100, "jitter spreads the delays")
        }
        // max below base is raised to base
        #expect(ReconnectPolicy(baseDelay: .seconds(1), maxDelay: .milliseconds(10)).ceiling(attempt: 3) == .seconds(1))
    }
}
