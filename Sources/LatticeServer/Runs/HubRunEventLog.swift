import LatticeProtocol
public import LatticeRuns
import NIOCore

/// The run executor's event log on the hub: each event is appended to the durable stream
/// `run/{id}` with the run's row attached (`RunRowWrite`, written in the event's transaction),
/// then fanned out to the run's monitors like any durable event.
public struct HubRunEventLog: RunEventLog {
    let hub: StreamHub

    public init(hub: StreamHub) {
        self.hub = hub
    }

    public func append(_ event: RunEvent, row: RunRowWrite, completion: @escaping @Sendable (Result<UInt64, any Error>) -> Void) {
        guard case .success(let stream) = StreamName.parse("run/\(row.record.id)") else {
            return completion(.failure(StreamAppendError.notStored("run id \(row.record.id) makes no stream name")))
        }
        // Run events are encoded by `RunEvent.json`: always one valid JSON object.
        var write = row
        write.activity = RunActivity.entries(for: event, of: row.record)
        hub.append(stream, data: RawJSON(trusted: ByteBuffer(string: event.json)), attachment: write) { result in
            completion(result.map(\.offset).mapError { $0 })
        }
    }
}
