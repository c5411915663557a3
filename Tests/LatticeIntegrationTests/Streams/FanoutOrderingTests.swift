import Foundation
import Testing

@Suite("streams: subscribe, publish, ordering",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent", "--rate-messages", "0", "--rate-bytes", "0"]),
       .timeLimit(.minutes(5)))
struct FanoutOrderingTests {
    @Test("every subscriber gets every event of a stream once, in offset order, with each publisher's order kept")
    func orderingWithSeveralPublishersAndSubscribers() async throws {
        let port = try TestServerProcess.require().port
        let stream = "channel/demo/order"
        var subscribers: [StreamClient] = []
        for i in 0..<3 {
            let client = try await StreamClient.connect(port: port, name: "sub\(i)")
            let ok = try await client.request(#"{"type":"subscribe","id":"s\#(i)","stream":"\#(stream)"}"#)
            #expect(ok.type == "ok", "\(ok)")
            #expect(ok.json["id"] as? String == "s\(i)")
            #expect(ok.stream == stream)
            #expect(ok.offset == 0)
            subscribers.append(client)
        }
        let perPublisher = 300
        let publishers = [try await StreamClient.connect(port: port, name: "pubA"), try await StreamClient.connect(port: port, name: "pubB")]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (p, publisher) in publishers.enumerated() {
                group.addTask {
                    for n in 0..<perPublisher {
                        try await publisher.send(#"{"type":"publish","id":\#(n),"stream":"\#(stream)","data":{"p":\#(p),"n":\#(n)}}"#)
                    }
                    // One ok per publish, in request order, each with a fresh offset.
                    var last = -1
                    for n in 0..<perPublisher {
                        let ok = try await publisher.next { $0.type == "ok" || $0.type == "error" }
                        #expect(ok.type == "ok", "\(ok)")
                        #expect((ok.json["id"] as? NSNumber)?.intValue == n)
                        let offset = try #require(ok.offset)
                        #expect(offset > last)
                        last = offset
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = 2 * perPublisher
        for subscriber in subscribers {
            var nextN = [0, 0]
            for expected in 1...total {
                let event = try await subscriber.next { $0.type == "event" }
                #expect(event.offset == expected, "\(event)")
                let data = try #require(event.json["data"] as? [String: Any])
                let p = try #require((data["p"] as? NSNumber)?.intValue)
                #expect((data["n"] as? NSNumber)?.intValue == nextN[p])
                nextN[p] += 1
            }
            #expect(nextN == [perPublisher, perPublisher])
        }
        for client in subscribers + publishers { await client.close() }
    }

    @Test("publish answers ok with epoch and offset; data is forwarded verbatim; the publisher gets its own event")
    func publishVerbatim() async throws {
        let port = try TestServerProcess.require().port
        let client = try await StreamClient.connect(port: port, name: "ada")
        let subscribed = try await client.request(#"{"type":"subscribe","id":1,"stream":"channel/demo/verbatim"}"#)
        let epoch = try #require(subscribed.epoch)
        let data = #"{ "text" : "h\u00e9llo",  "n":1.50e3 }"#
        try await client.send(#"{"type":"publish","id":2,"stream":"channel/demo/verbatim","data":\#(data)}"#)
        var sawOK = false, sawEvent = false
        while !(sawOK && sawEvent) {
            let message = try await client.next()
            switch message.type {
            case "ok":
                #expect(message.text == #"{"type":"ok","id":2,"epoch":"\#(epoch)","offset":1}"#)
                sawOK = true
            case "event":
                #expect(message.text == #"{"type":"event","stream":"channel/demo/verbatim","epoch":"\#(epoch)","offset":1,"data":\#(data)}"#)
                sawEvent = true
            default:
                continue
            }
        }
        // Unsubscribe: ok, and nothing of the stream afterwards.
        let unsubscribed = try await client.request(#"{"type":"unsubscribe","id":3,"stream":"channel/demo/verbatim"}"#)
        #expect(unsubscribed.text == #"{"type":"ok","id":3}"#)
        _ = try await client.request(#"{"type":"publish","id":4,"stream":"channel/demo/verbatim","data":2}"#)
        let pong = try await client.request(#"{"type":"ping","id":5}"#)
        #expect(pong.text == #"{"type":"ok","id":5}"#)
        await client.close()
    }
}
