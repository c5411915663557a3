import ArgumentParser
import LatticeServer
import ServiceLifecycle

struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Run the WebSocket engine as a bare echo server (any path; every message back to its sender).")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        // 64 MiB: Autobahn's largest cases send 16 MiB messages.
        let settings = try options.settings(defaultPort: 9001, defaultMaxMessage: 64 << 20)
        let server = try await EchoServer.start(settings: settings)
        announce("lattice echo listening on \(server.host):\(server.port)")
        try await ServiceGroup.lattice(services: [server]).run()
        announce("lattice echo stopped")
    }
}
