/// Answers in request order although they are computed on different loops: each request that
/// needs a stream's home loop reserves a slot; answers are written once every earlier slot is.
struct ReplyQueue {
    private var slots: [HubReply?] = []
    private var head = 0
    /// The sequence number of `slots[head]`.
    private var firstSeq: UInt64 = 0

    /// No answer is outstanding: an immediate answer can be written right away.
    var isIdle: Bool { head == slots.count }
    /// Answers reserved and not yet written.
    var outstanding: Int { slots.count - head }

    mutating func reserve() -> UInt64 {
        slots.append(nil)
        return firstSeq + UInt64(slots.count - 1 - head)
    }

    mutating func fill(_ seq: UInt64, _ reply: HubReply) {
        slots[head + Int(seq - firstSeq)] = reply
    }

    /// The next answer in order, if it has arrived.
    mutating func popReady() -> HubReply? {
        guard head < slots.count, let reply = slots[head] else { return nil }
        slots[head] = nil
        head += 1
        firstSeq += 1
        if head == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        }
        return reply
    }
}
