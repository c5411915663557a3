import ArgumentParser
import Foundation
import LatticeServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Lattice server: the web app at /, health at /healthz, WebSocket (lattice.v1) at /ws.")

    @OptionGroup var options: ServerOptions

    @Option(help: "Folder of the browser app served at / (env LATTICE_WEB_ROOT, default ./web).")
    var webRoot: String?

    @Option(help: "Events of history kept per stream, every class (env LATTICE_HISTORY_EVENTS; default per class, see docs/streams.md).")
    var historyEvents: Int?

    func run() async throws {
        var settings = try options.settings(defaultPort: 8080, defaultMaxMessage: 1 << 20)
        if let history = historyEvents ?? ProcessInfo.processInfo.environment["LATTICE_HISTORY_EVENTS"].flatMap(Int.init) {
            guard history >= 0 else { throw ValidationError("history events must not be negative") }
            settings.hub.historyEvents = history
        }
        let root = webRoot ?? ProcessInfo.processInfo.environment["LATTICE_WEB_ROOT"] ?? "web"
        var isDirectory: ObjCBool = false
        let haveWeb = FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) && isDirectory.boolValue
        if !haveWeb {
            FileHandle.standardError.write(Data("warning: web root '\(root)' not found; serving no web app\n".utf8))
        }
        let server = try await LatticeHTTPServer.start(settings: settings, webRoot: haveWeb ? root : nil)
        announce("lattice serve listening on \(server.host):\(server.port) (web app http://\(server.host):\(server.port)/, WebSocket ws://\(server.host):\(server.port)/ws)")
        await waitForTerminationSignal()
        try await server.shutdown()
        announce("lattice serve stopped")
    }
}
