import Foundation
import LatticeAuth
import LatticeCRDT
import LatticeRuns
import LatticeStreams
import NIOCore
import Synchronization
import Testing
@testable import LatticeStore

/// An attachment no adapter knows.
private struct UnknownAttachment: DurableAppendAttachment {}

/// Attachments on the SQLite writer: one it does not know fails only its own append.
@Suite struct AppendAttachmentTests {
    @Test("an unknown attachment fails its append and stores no event; the appends queued with it commit, offsets without a hole")
    func unknownAttachmentFailsOnlyItsAppend() async throws {
        try await withStore { store, _ in
            // Queued together, so they share the writer's batch.
            let outcomes: [Int: Result<UInt64, DurableAppendError>] = await withCheckedContinuation { continuation in
                let results = Mutex<[Int: Result<UInt64, DurableAppendError>]>([:])
                for i in 0..<21 {
                    let attachment: (any DurableAppendAttachment)? = i == 10 ? UnknownAttachment() : nil
                    store.append(stream: "s", data: ByteBuffer(string: "\(i)"), key: nil, attachment: attachment) { result in
                        let all = results.withLock { results in
                            results[i] = result
                            return results.count == 21 ? results : nil
                        }
                        if let all { continuation.resume(returning: all) }
                    }
                }
            }
            guard case .failure(.storeFailed(let message))? = outcomes[10] else {
                Issue.record("the unknown attachment's append: \(String(describing: outcomes[10]))")
                return
            }
            #expect(message.contains("unknown attachment"))
            let committed = (0..<21).filter { $0 != 10 }.compactMap { try? outcomes[$0]?.get() }
            #expect(committed == (1...20).map { UInt64($0) })
            let stored = try await store.read(stream: "s", after: 0, limit: 100)
            #expect(stored.map { String(buffer: $0.data) } == (0..<21).filter { $0 != 10 }.map { "\($0)" })
        }
    }

    @Test("a run row write's activity is recorded in the outbox with its event, even when a later event of the same batch writes the row")
    func runActivityIsKeptWhenTheRowIsSuperseded() async throws {
        _ = try await withStore { store, _ in
            var record = RunRecord(header: RunHeader(id: "run_a", workspace: "ws", definitionID: "def", version: 1,
                                                     inputs: .object([:]), actor: "u", key: nil), createdAt: 1)
            guard case .reserved = try await store.reserve(record.header, at: 1) else {
                Issue.record("not reserved")
                return
            }
            let events: [(RunEvent, [ActivityOutboxEntry])] = [
                (RunEvent(at: 2, .status(.running, reason: nil)), [ActivityOutboxEntry(stream: "workspace/ws", data: #"{"n":1}"#)]),
                (RunEvent(at: 3, .nodeStarted(node: "a", attempt: 1)), []),
                (RunEvent(at: 4, .finished(.ok, reason: nil)), [ActivityOutboxEntry(stream: "workspace/ws", data: #"{"n":2}"#)]),
            ]
            // Queued together: one batch, so only the last row write is made.
            let results: [Result<UInt64, DurableAppendError>] = await withCheckedContinuation { continuation in
                let done = Mutex<[Result<UInt64, DurableAppendError>]>([])
                for (event, activity) in events {
                    record.apply(event)
                    store.append(stream: "run/run_a", data: ByteBuffer(string: event.json), key: nil,
                                 attachment: RunRowWrite(record: record, activity: activity)) { result in
                        let all = done.withLock { done in
                            done.append(result)
                            return done.count == events.count ? done : nil
                        }
                        if let all { continuation.resume(returning: all) }
                    }
                }
            }
            #expect(results.allSatisfy { (try? $0.get()) != nil }, "\(results)")
            let pending = try await store.pendingActivity(limit: 10)
            #expect(pending.map { String(decoding: $0.data, as: UTF8.self) } == [#"{"n":1}"#, #"{"n":2}"#])
            #expect(try await store.run(id: "run_a")?.status == .ok)
        }
    }
}
