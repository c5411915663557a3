import ArgumentParser
import Foundation
import LatticeCRDT
import LatticeTraces

struct BenchCRDTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crdt",
        abstract: "Replay an editing trace through the text CRDT.",
        discussion: """
            Replays a trace in the editing-traces format (sequential or concurrent, .json.gz or .json) \
            and reports time, peak memory, snapshot size and snapshot load time. With --json the last \
            line of output is one JSON object.
            """
    )

    @Argument(help: "Path to the trace (TRACE.json.gz).")
    var trace: String

    @Option(help: "Number of timed replays (best and median are reported).")
    var runs: Int = 5

    @Flag(help: "Print a JSON object as the last line.")
    var json = false

    func run() async throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        let report = try BenchCRDT.run(path: trace, runs: runs, log: { if !json { print($0) } else { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } })
        if json {
            print(report.jsonLine())
        } else {
            print(report.humanText())
        }
        if !report.correct { throw ExitCode(2) }
    }
}
