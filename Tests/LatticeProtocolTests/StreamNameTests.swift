import Testing

@testable import LatticeProtocol

@Suite struct StreamNameTests {
    @Test func everyKind() throws {
        let ws = try StreamName.parse("workspace/acme").get()
        #expect(ws.kind == .workspace && ws.workspace == "acme" && ws.resource == nil && ws.channel == nil)
        let run = try StreamName.parse("run/r-17").get()
        #expect(run.kind == .run && run.workspace == nil && run.resource == "r-17" && run.channel == nil)
        let doc = try StreamName.parse("doc/D.1~x_y").get()
        #expect(doc.kind == .doc && doc.workspace == nil && doc.resource == "D.1~x_y" && doc.channel == nil)
        let graph = try StreamName.parse("graph/acme").get()
        #expect(graph.kind == .graph && graph.workspace == "acme" && graph.resource == nil && graph.channel == nil)
        let channel = try StreamName.parse("channel/acme/general").get()
        #expect(channel.kind == .channel && channel.workspace == "acme" && channel.resource == nil && channel.channel == "general")
        #expect(channel.name == "channel/acme/general" && channel.description == "channel/acme/general")
        #expect(channel.isPublishable && !ws.isPublishable && !run.isPublishable && !doc.isPublishable && !graph.isPublishable)
    }

    @Test func everyAllowedCharacter() throws {
        let all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"
        #expect(try StreamName.parse("channel/\(all)/\(all)").get().channel == Substring(all))
        #expect(try StreamName.parse("run/.").get().resource == ".")
    }

    @Test func everyOtherByteIsRefused() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-/".utf8)
        for b in UInt8(0)...UInt8(0x7F) where !allowed.contains(b) {
            let name = "run/a" + String(Unicode.Scalar(b)) + "b"
            guard case .failure(let error) = StreamName.parse(name) else {
                Issue.record("byte \(b) accepted")
                continue
            }
            #expect(error.code == .invalidStream)
            #expect(error.message.contains("byte 5"), "\(error.message)")
        }
        for name in ["run/é", "run/🎉", "doc/a b", "channel/w/%41", "workspace/a+b"] {
            #expect(throws: ProtocolError.self) { try StreamName.parse(name).get() }
        }
    }

    @Test func wrongShapes() {
        let cases: [(String, String)] = [
            ("", "empty"), ("workspace", "workspace/{workspace}"), ("workspace/", "empty segment 2"), ("workspace/a/b", "workspace/{workspace}"),
            ("run", "run/{run}"), ("run/", "empty segment 2"), ("run/a/b", "run/{run}"),
            ("doc", "doc/{doc}"), ("doc//", "doc/{doc}"), ("doc/a/", "doc/{doc}"),
            ("graph", "graph/{workspace}"), ("graph/", "empty segment 2"), ("graph/a/b", "graph/{workspace}"),
            ("channel/a", "channel/{workspace}/{name}"), ("channel/a/b/c", "channel/{workspace}/{name}"),
            ("channel//b", "empty segment 2"), ("channel/a/", "empty segment 3"), ("channel", "channel/{workspace}/{name}"),
            ("/run/a", "unknown kind ''"), ("Run/a", "unknown kind 'Run'"), ("runs/a", "unknown kind 'runs'"), ("user/a", "unknown kind"),
            ("channel/a//b", "channel/{workspace}/{name}"),
        ]
        for (name, mention) in cases {
            guard case .failure(let error) = StreamName.parse(name) else {
                Issue.record("\(name) accepted")
                continue
            }
            #expect(error.code == .invalidStream)
            #expect(error.message.contains(mention), "\(name): \(error.message)")
        }
    }

    @Test func lengthLimit() {
        let name = "run/" + String(repeating: "x", count: 252)
        #expect((try? StreamName.parse(name).get()) != nil)
        guard case .failure(let error) = StreamName.parse(name + "x") else {
            Issue.record("257 bytes accepted")
            return
        }
        #expect(error.message.contains("257 bytes") && error.message.contains("256"))
        #expect((try? StreamName.parse("run/abc", maxBytes: 7).get()) != nil)
        #expect((try? StreamName.parse("run/abcd", maxBytes: 7).get()) == nil)
    }

    @Test func equalityIsByName() {
        #expect(stream("run/a") == stream("run/a"))
        #expect(stream("run/a") != stream("doc/a"))
        #expect(Set([stream("run/a"), stream("run/a"), stream("run/b")]).count == 2)
        #expect(stream("doc/a") < stream("run/a"))
    }
}
