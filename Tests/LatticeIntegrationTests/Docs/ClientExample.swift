import LatticeClient
import LatticeProtocol

// docs/client.md shows this function verbatim, from `// BEGIN docs/client.md` to `// END`
// (DocsExampleTests checks that the page and this file agree, and runs it against a server).

// BEGIN docs/client.md
/// Joins a channel's presence, says hello, reads it back, and leaves.
func sayHello(server: String, token: String, report: @escaping @Sendable (String) -> Void = { print($0) }) async throws {
    let session = LatticeSession(url: WebSocketURL(server)!, options: LatticeSessionOptions(   // "ws://127.0.0.1:8080/ws"
        token: token,                                    // lat_…: `lattice admin token create` prints one
        requestTimeout: .seconds(10),
        reconnect: ReconnectPolicy(baseDelay: .milliseconds(250), maxDelay: .seconds(15))))
    let welcome = try await session.connect()           // waits for `welcome`
    report("connected as \(welcome.identity.name)")

    let stream = "channel/demo/general"
    let sub = try await session.subscribe(stream)       // or since: a StreamPosition saved earlier
    let reader = Task {
        for await item in sub.events {
            switch item {
            case .event(let e):        report("\(e.offset) \(e.data)")   // data: the publisher's JSON, byte for byte
            case .reset(let p):        report("history lost: refetch, then live after \(p)")
            case .resumed(let p):      report("resumed gapless after \(p)")
            case .presence(let all):   report("present: \(all.map(\.identity.name))")
            case .presenceDiff(let d): report("joined: \(d.joins.map(\.identity.name))")  // session.presence(of:) keeps the sum
            case .failed(let error):   report("failed: \(error)")                        // the stream finishes next
            }
        }
    }
    try await session.setPresence(stream, state: #"{"status":"reading"}"#)
    let position = try await session.publish(stream, data: #"{"text":"hi"}"#)
    report("published at \(position)")
    try await session.ping()
    try await session.unsubscribe(stream)               // the events stream finishes
    await reader.value
    await session.close()
}
// END
