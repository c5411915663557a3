import Foundation
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
}
