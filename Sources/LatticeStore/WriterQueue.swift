import Foundation
import LatticeStreams
import NIOCore

/// One `append` waiting for the writer.
struct PendingAppend: Sendable {
    let stream: String
    let data: ByteBuffer
    let key: String?
    /// The write committed in the same transaction as the event (`AttachmentWrite`).
    let attachment: (any DurableAppendAttachment)?
    let completion: @Sendable (Result<UInt64, DurableAppendError>) -> Void
}

/// Work for the writer thread, in arrival order.
enum WriterJob: Sendable {
    case append(PendingAppend)
    /// Apply retention now (outside the periodic schedule), then call back.
    case retention(@Sendable (Result<Void, DurableAppendError>) -> Void)
}

/// What the writer does next.
enum WriterStep {
    /// Appends to store in one transaction.
    case commit([PendingAppend])
    case retention(@Sendable (Result<Void, DurableAppendError>) -> Void)
    /// The deadline passed with nothing queued.
    case timedOut
    /// Closed and drained: the writer exits.
    case finished
}

/// The writer's inbox: a FIFO behind a lock and a condition. Producers never block beyond the
/// lock; the writer sleeps on the condition when there is nothing to do.
final class WriterQueue: @unchecked Sendable {
    // All below is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [WriterJob] = []
    /// Index of the first job not yet taken (taking from the front of an array is O(n)).
    private var front = 0
    private var closed = false

    /// Queues `job`; false (and nothing queued) once closed.
    func enqueue(_ job: WriterJob) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Refuses new jobs; the writer still drains what is queued.
    func close() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    /// Waits until there is work or `deadline` passes, then takes the next step: the longest run
    /// of queued appends within the limits (at least one), or one retention job.
    func next(maxEvents: Int, maxBytes: Int, deadline: Date) -> WriterStep {
        condition.lock()
        defer { condition.unlock() }
        while front == jobs.count {
            if closed { return .finished }
            if !condition.wait(until: deadline) && front == jobs.count {
                return closed ? .finished : .timedOut
            }
        }
        if case .retention(let done) = jobs[front] {
            take(1)
            return .retention(done)
        }
        var batch: [PendingAppend] = []
        var bytes = 0
        var index = front
        while index < jobs.count, batch.count < maxEvents, case .append(let append) = jobs[index] {
            let size = append.data.readableBytes
            if !batch.isEmpty && bytes + size > maxBytes { break }
            batch.append(append)
            bytes += size
            index += 1
        }
        take(batch.count)
        return .commit(batch)
    }

    private func take(_ count: Int) {
        front += count
        if front == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            front = 0
        } else if front >= 4096 && front * 2 >= jobs.count {
            jobs.removeFirst(front)
            front = 0
        }
    }
}
