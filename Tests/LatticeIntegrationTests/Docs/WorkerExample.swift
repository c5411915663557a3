import LatticeClient
import LatticeProtocol

// docs/client.md shows this function verbatim, from `// BEGIN docs/client.md` to `// END`
// (DocsExampleTests checks that the page and this file agree, and runs it against a server).

// BEGIN docs/client.md
/// A bot worker for the capability `echo`: each task's output is its input.
func echoWorker(_ session: LatticeSession, workspace: String) async throws {
    try await session.registerWorker(workspace: workspace, capabilities: ["echo"], concurrency: 4)  // again after each reconnect
    for await message in session.workerMessages {
        guard case .assign(let task) = message else { continue }   // .cancel(…): stop that lease's work
        try await session.taskProgress(lease: task.lease)            // a heartbeat: renews the lease
        try await session.completeTask(lease: task.lease, output: task.input.text)
    }
}
// END
