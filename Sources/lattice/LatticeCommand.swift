import ArgumentParser

@main
struct LatticeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lattice",
        abstract: "Lattice Realtime: a self-hostable realtime collaboration server.",
        subcommands: [ServeCommand.self, EchoCommand.self, TailCommand.self, PublishCommand.self, PresenceCommand.self, RunCommand.self, WorkerCommand.self, AdminCommand.self, BenchCommand.self]
    )
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the wire, fan-out, the CRDT and runs.",
        subcommands: [BenchEchoCommand.self, BenchCRDTCommand.self, BenchFanoutCommand.self, BenchRunsCommand.self]
    )
}
