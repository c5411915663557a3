import ArgumentParser
struct BenchCRDTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crdt", abstract: "Replay an editing trace through the text CRDT.")
    func run() async throws {}
}
