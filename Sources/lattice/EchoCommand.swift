import ArgumentParser
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "echo", abstract: "Run a bare WebSocket echo server.")
    func run() async throws {}
}
