import LatticeClient
import Testing

/// What the `lattice.v1` client does without a server: decoding, encoding helpers, backoff.
@Suite("Client: decoding and backoff (no server)")
struct ClientUnitTests {
    @Test("welcome, ok, error decode")
    func basics() throws {
        let welcome = try #require(LatticeServerMessage.decode("""
            {"type":"welcome","protocol":"lattice.v1","session":"9c1f","identity":{"id":"u_42","name":"Ada","kind":"user"},\
            "limits":{"maxMessageBytes":65536,"maxSubscriptions":256},"heartbeatSeconds":30}
            """))
        guard case .welcome(let w) = welcome else { Issue.record("not a welcome: \(welcome)"); return }
        #expect(w.session == "9c1f")
        #expect(w.identity?.name == "Ada")
        #expect(w.limits["maxSubscriptions"] == 256)
        #expect(w.heartbeatSeconds == 30)

        #expect(LatticeServerMessage.decode(#"{"type":"ok","id":5,"epoch":"e1","offset":42}"#)
                == .ok(id: 5, LatticeOK(epoch: "e1", offset: 42)))
        #expect(LatticeServerMessage.decode(#"{"type":"ok"}"#) == .ok(id: nil, LatticeOK()))
        #expect(LatticeServerMessage.decode(#"{"type":"error","id":10,"code":"not_publishable","message":"only \"channel\" streams","stream":"run/r1"}"#)
                == .error(id: 10, code: "not_publishable", message: "only \"channel\" streams", stream: "run/r1"))
        #expect(LatticeServerMessage.decode(#"{"type":"task.assign","x":1}"#) == .unknown(type: "task.assign"))
        #expect(LatticeServerMessage.decode("[1]") == nil)
        #expect(LatticeServerMessage.decode(#"{"type":"ok""#) == nil)
    }

    @Test("event data stays verbatim: whitespace, escapes, nesting, scalars")
    func eventVerbatim() throws {
        let datas = [#"{ "text" : "hi \"there\" \u00e9 }{" , "n":[1, {"a":[]}] }"#, "null", "-1.5e3", #""a,b}""#, "[]", "true"]
        for data in datas {
            let text = #"{"type":"event","stream":"channel/demo/b","epoch":"e1","offset":7,"key":"k\n","data":"# + data + "}"
            let decoded = LatticeServerMessage.decode(text)
            #expect(decoded == .event(LatticeEvent(stream: "channel/demo/b", epoch: "e1", offset: 7, data: data, key: "k\n")))
        }
    }

    @Test("string escapes decode, including surrogate pairs")
    func escapes() throws {
        let m = LatticeServerMessage.decode(#"{"type":"error","code":"x","message":"a\u00e9\ud83d\ude00\t\/\\b"}"#)
        #expect(m == .error(id: nil, code: "x", message: "aé😀\t/\\b", stream: nil))
    }

    @Test("recovered, presence and presence.diff decode; diffs apply")
    func presence() throws {
        #expect(LatticeServerMessage.decode(#"{"type":"recovered","stream":"run/r","recovered":false,"epoch":"e2","offset":3}"#)
                == .recovered(stream: "run/r", recovered: false, LatticePosition(epoch: "e2", offset: 3)))
        let full = LatticeServerMessage.decode("""
            {"type":"presence","stream":"doc/d","members":[{"id":"u_42","name":"Ada","kind":"user","metas":[\
            {"conn":"9c","state":{"status":"editing"}},{"conn":"04","state":{}}]}]}
            """)
        let ada = PresenceMember(id: "u_42", name: "Ada", kind: "user",
                                 metas: [.init(conn: "9c", state: #"{"status":"editing"}"#), .init(conn: "04", state: "{}")])
        #expect(full == .presence(stream: "doc/d", members: [ada]))
        let diff = LatticeServerMessage.decode("""
            {"type":"presence.diff","stream":"doc/d","joins":[{"id":"u_7","name":"Bob","kind":"user","metas":[{"conn":"aa","state":{}}]}],\
            "leaves":[{"id":"u_42","name":"Ada","kind":"user","metas":[{"conn":"04","state":{}}]}],"updates":[]}
            """)
        guard case .presenceDiff(_, let d)? = diff else { Issue.record("not a diff: \(String(describing: diff))"); return }
        var members = ["u_42": ada]
        d.apply(to: &members)
        #expect(members.keys.sorted() == ["u_7"])
    }

    @Test("positions parse EPOCH:OFFSET")
    func positions() {
        #expect(LatticePosition("9f3a:41") == LatticePosition(epoch: "9f3a", offset: 41))
        #expect(LatticePosition("a:b:0") == LatticePosition(epoch: "a:b", offset: 0))
        #expect(LatticePosition("e1") == nil)
        #expect(LatticePosition(":4") == nil)
        #expect(LatticePosition("e:-1") == nil)
    }

    @Test("JSON quoting round-trips and validation is strict")
    func json() throws {
        let s = "a\"b\\c\n\u{01}é😀"
        let quoted = LatticeJSON.quote(s)
        #expect(quoted == #""a\"b\\c\n\u0001é😀""#)
        let m = LatticeServerMessage.decode(#"{"type":"error","code":"c","message":"# + quoted + "}")
        #expect(m == .error(id: nil, code: "c", message: s, stream: nil))
        for valid in ["1", "\"x\"", "{\"a\":[1,2]}", "null", " [] "] { #expect(LatticeJSON.isValid(valid), "\(valid)") }
        for invalid in ["hello", "", "{", "[1,]", "01", "NaN", "'x'", "{\"a\":1}x", "1e400"] {
            #expect(!LatticeJSON.isValid(invalid), "\(invalid)")
        }
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
