import Foundation
import Testing

/// Python `websockets` (an independent RFC 6455/7692 implementation) as the
/// client, our `lattice echo` as the server.
@Suite("Interop: Python websockets client → lattice echo")
struct PythonClientTests {
    @Test("text, binary, large, fragmented, ping, burst ordering, close", arguments: [true, false])
    func pythonClientAgainstEcho(compression: Bool) async throws {
        let server = try await TestServerProcess.launch(
            ["echo", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0"] + (compression ? [] : ["--no-deflate"]))
        defer { server.terminate() }
        let url = "ws://127.0.0.1:\(server.port)/interop"
        let result = try await Interop.runDetached([Interop.script("ws_client.py"), url] + (compression ? [] : ["--no-compression"]))
        #expect(result.status == 0, "python client failed:\n\(result.stderr)")
        let checks = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "no JSON from client: \(result.stdout)")
        #expect(checks["ok"] as? Bool == true)
        let names = checks["checks"] as? [String] ?? []
        for expected in ["text", "binary", "large-binary-4MiB", "large-text-1MiB", "fragmented-text", "fragmented-binary",
                         "ping-pong", "ordered-burst-200", "close-1000"] {
            #expect(names.contains(expected), "missing check \(expected) in \(names)")
        }
        #expect(names.first == (compression ? "extensions=permessage-deflate" : "extensions=None"))
    }
}
