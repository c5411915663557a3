import ArgumentParser
struct BenchEchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "echo", abstract: "Echo round trips per second and latency.")
    func run() async throws {}
}
