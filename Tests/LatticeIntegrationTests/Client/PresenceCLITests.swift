import Foundation
import LatticeClient
import LatticeProtocol
import Testing

@Suite("Client: lattice presence set, tail --presence and the bench rate check", .latticeServer(ClientTestSupport.serveArguments))
struct PresenceCLITests {
    var url: String { "ws://127.0.0.1:\(TestServerProcess.current!.port)/ws" }

    /// Waits until `session`'s view of `stream` satisfies `predicate`.
    func waitPresence(_ session: LatticeSession, _ stream: String, upTo seconds: Double = 30,
                      _ predicate: ([ServerMessage.Member]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if predicate(await session.presence(of: stream)) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return predicate(await session.presence(of: stream))
    }

    @Test("lattice presence set: the bot is visible to another subscriber and leaves on SIGTERM")
    func presenceSet() async throws {
        let server = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("presence")
        let watcher = try await ClientTestSupport.session(server, name: "watcher", reconnect: nil)
        _ = try await watcher.subscribe(channel)
        let bot = try await ChildProcess(["presence", "set", channel, #"{"status":"building"}"#, "--url", url])
        #expect(await bot.wait { out, _ in out.contains("present in \(channel) as ") }, "stdout: \(bot.stdout) stderr: \(bot.stderr)")
        let joined = await waitPresence(watcher, channel) { members in
            members.contains { $0.identity.name == "cli" && $0.metas.contains { $0.state.text.contains("building") } }
        }
        let afterJoin = await watcher.presence(of: channel)
        #expect(joined, "presence: \(afterJoin)")
        kill(bot.process.processIdentifier, SIGTERM)
        #expect(await bot.exitStatus(within: 10) == 0, "stderr: \(bot.stderr)")
        let left = await waitPresence(watcher, channel) { members in !members.contains { $0.identity.name == "cli" } }
        let afterLeave = await watcher.presence(of: channel)
        #expect(left, "presence: \(afterLeave)")
        await watcher.close()
    }

    @Test("lattice presence set --for: present, then leaves on its own with status 0")
    func presenceSetFor() async throws {
        let server = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("presence-for")
        let watcher = try await ClientTestSupport.session(server, name: "watcher-for", reconnect: nil)
        _ = try await watcher.subscribe(channel)
        let bot = try await ChildProcess(["presence", "set", channel, #"{"status":"brief"}"#, "--url", url, "--for", "2"])
        let joined = await waitPresence(watcher, channel) { members in
            members.contains { $0.metas.contains { $0.state.text.contains("brief") } }
        }
        #expect(joined, "stdout: \(bot.stdout) stderr: \(bot.stderr)")
        #expect(await bot.exitStatus(within: 30) == 0, "stderr: \(bot.stderr)")
        let left = await waitPresence(watcher, channel) { members in
            !members.contains { $0.metas.contains { $0.state.text.contains("brief") } }
        }
        #expect(left)
        await watcher.close()
    }

    @Test("lattice tail --presence prints the snapshot and a join and a leave diff, one JSON line each")
    func tailPresence() async throws {
        let server = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("tail-presence")
        let tail = try await ChildProcess(["tail", channel, "--url", url, "--presence"])
        #expect(await tail.wait { out, _ in out.contains("\"type\":\"presence\"") }, "stdout: \(tail.stdout) stderr: \(tail.stderr)")
        let other = try await ClientTestSupport.session(server, name: "visitor", reconnect: nil)
        _ = try await other.subscribe(channel)
        try await other.setPresence(channel, state: #"{"cursor":3}"#)
        #expect(await tail.wait { out, _ in out.contains("\"type\":\"presence.diff\"") && out.contains("\"cursor\":3") },
                "stdout: \(tail.stdout)")
        await other.close()
        let lines: () -> [[String: Any]] = {
            tail.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        let sawLeave = await tail.wait { _, _ in
            lines().contains { ($0["type"] as? String) == "presence.diff" && !(($0["leaves"] as? [Any]) ?? []).isEmpty }
        }
        #expect(sawLeave, "stdout: \(tail.stdout)")
        let all = lines()
        #expect(all.count == tail.stdout.split(separator: "\n").count, "every line is one JSON object: \(tail.stdout)")
        let snapshot = try #require(all.first)
        #expect(snapshot["type"] as? String == "presence" && snapshot["stream"] as? String == channel)
        #expect(snapshot["members"] is [Any])
        let join = try #require(all.first { ($0["type"] as? String) == "presence.diff" && !(($0["joins"] as? [Any]) ?? []).isEmpty })
        let member = try #require((join["joins"] as? [[String: Any]])?.first)
        #expect(member["name"] as? String == "visitor" && member["kind"] as? String == "user")
        let meta = try #require((member["metas"] as? [[String: Any]])?.first)
        #expect((meta["state"] as? [String: Any])?["cursor"] as? Int == 3 && meta["conn"] is String)
        kill(tail.process.processIdentifier, SIGINT)
        #expect(await tail.exitStatus(within: 10) == 0)
    }

    @Test("lattice presence set: bad JSON is one usage line (64); a refused token exits 3")
    func presenceSetErrors() async throws {
        _ = try TestServerProcess.require()
        for bad in ["nope", "[1,2]", #"{"a":"#] {
            let result = try await ChildProcess.run(["presence", "set", "channel/demo/x", bad, "--url", url])
            #expect(result.status == 64, "\(bad): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("not a JSON object"), "\(bad): \(result.stderr)")
        }
        let forged = "lat_t_0123456789abcdef_" + String(repeating: "A", count: 43)
        let refused = try await ChildProcess.run(["presence", "set", "channel/demo/x", "{}", "--url", url, "--token", forged])
        #expect(refused.status == 3, "\(refused.stderr)")
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("credential_refused"), "\(refused.stderr)")
    }

    @Test("lattice bench fanout says when the load generator fell short of --rate")
    func benchShortfall() async throws {
        _ = try TestServerProcess.require()
        // A billion events/s in one process: never reached, so the shortfall is a measurement.
        let result = try await ChildProcess.run([
            "bench", "fanout", "--url", url, "--subscribers", "2", "--publishers", "1", "--size", "64",
            "--rate", "1000000000", "--duration", "0.5", "--drain", "5", "--stream", ClientTestSupport.channel("short"), "--json",
        ], within: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "stdout: \(result.stdout)")
        #expect(object["rate_reached"] as? Bool == false, "\(last)")
        let reached = Int((object["published_per_second"] as? Double ?? -1).rounded())
        #expect(object["rate_shortfall"] as? String
                == "rate: requested 1000000000/s, reached \(reached)/s — below the requested rate (the publishers and the server together could not sustain it)", "\(last)")
    }
}
