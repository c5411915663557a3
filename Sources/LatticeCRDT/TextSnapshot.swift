extension TextCRDT {
    /// Binary snapshot of the text state: agent names, runs in document order (tombstones keep
    /// ids and origins but no content), then the visible content as UTF-8.
    ///
    /// Run record: agent, seq, len, flags (bit0 deleted, bit1 left origin is (agent, seq-1),
    /// bit2 left origin none, bit3 right origin none), then left origin (agent, seq) unless
    /// bit1/bit2, then right origin (agent, seq) unless bit3.
    public func encodeSnapshot(into w: inout ByteWriter) {
        w.varint(agentNames.count)
        for n in agentNames { w.string(n) }
        w.varint(runCount)
        var utf8: [UInt8] = []
        utf8.reserveCapacity(count)
        for cid in order {
            for r in chunks[Int(cid)].runs {
                w.varint(r.agent); w.varint(r.seq); w.varint(r.len)
                var flags: UInt8 = r.deleted ? 1 : 0
                let leftIsPrev = r.olAgent == r.agent && r.seq > 0 && r.olSeq == r.seq - 1
                if leftIsPrev { flags |= 2 } else if r.olAgent == TextCRDT.none { flags |= 4 }
                if r.orAgent == TextCRDT.none { flags |= 8 }
                w.u8(flags)
                if flags & 6 == 0 { w.varint(r.olAgent); w.varint(r.olSeq) }
                if flags & 8 == 0 { w.varint(r.orAgent); w.varint(r.orSeq) }
                if !r.deleted {
                    for k in Int(r.seq)..<Int(r.seq + r.len) {
                        let s = Unicode.Scalar(content[Int(r.agent)][k]) ?? "\u{FFFD}"
                        utf8.append(contentsOf: UTF8.encode(s)!)
                    }
                }
            }
        }
        w.varint(utf8.count)
        w.raw(utf8)
    }

    public func encodeSnapshot() -> [UInt8] {
        var w = ByteWriter()
        encodeSnapshot(into: &w)
        return w.bytes
    }

    public static func decodeSnapshot(_ bytes: [UInt8]) throws -> TextCRDT {
        var r = ByteReader(bytes)
        return try decodeSnapshot(from: &r)
    }

    public static func decodeSnapshot(from rd: inout ByteReader) throws -> TextCRDT {
        var t = TextCRDT()
        let agents = try rd.int()
        for _ in 0..<agents { _ = t.agent(try rd.string()) }
        let nRuns = try rd.int()
        var runs: [Run] = []
        runs.reserveCapacity(min(nRuns, 1 << 20))
        for _ in 0..<nRuns {
            let a = try rd.u32(), s = try rd.u32(), l = try rd.u32()
            guard Int(a) < agents, l > 0, UInt64(s) + UInt64(l) < UInt64(UInt32.max) else { throw DecodeError("bad text run") }
            let flags = try rd.u8()
            var olA = TextCRDT.none, olS: UInt32 = 0, orA = TextCRDT.none, orS: UInt32 = 0
            if flags & 2 != 0 { guard s > 0 else { throw DecodeError("bad text run origin") }; olA = a; olS = s - 1 }
            else if flags & 4 == 0 { olA = try rd.u32(); olS = try rd.u32() }
            if flags & 8 == 0 { orA = try rd.u32(); orS = try rd.u32() }
            guard (olA == TextCRDT.none || Int(olA) < agents) && (orA == TextCRDT.none || Int(orA) < agents) else {
                throw DecodeError("bad text run origin agent")
            }
            runs.append(Run(agent: a, seq: s, len: l, deleted: flags & 1 != 0, olAgent: olA, olSeq: olS, orAgent: orA, orSeq: orS))
        }
        let n = try rd.int()
        let utf8 = try rd.rawBytes(n)
        var scalars: [UInt32] = []
        scalars.reserveCapacity(n)
        var it = utf8.makeIterator()
        var dec = UTF8()
        loop: while true {
            switch dec.decode(&it) {
            case .scalarValue(let u): scalars.append(u.value)
            case .emptyInput: break loop
            case .error: throw DecodeError("invalid UTF-8 in text snapshot")
            }
        }
        // Build chunks of half capacity.
        let per = TextCRDT.maxRuns / 2
        t.chunks = []
        t.order = []
        t.orderPos = []
        var ci = 0
        var pos = 0
        // size per-agent arrays
        var maxSeq = [Int](repeating: 0, count: agents)
        for r in runs { maxSeq[Int(r.agent)] = max(maxSeq[Int(r.agent)], Int(r.seq + r.len)) }
        for a in 0..<agents {
            t.content[a] = PackedArray(repeating: 0, count: maxSeq[a], maxIsSentinel: false)
            t.chunkOf[a] = PackedArray(repeating: UInt32.max, count: maxSeq[a], maxIsSentinel: true)
        }
        var start = 0
        repeat {
            let end = min(start + per, runs.count)
            var chunk = Chunk()
            chunk.runs = Array(runs[start..<end])
            for r in chunk.runs {
                let a = Int(r.agent)
                for k in 0..<Int(r.len) {
                    guard t.chunkOf[a][Int(r.seq) + k] == UInt32.max else { throw DecodeError("duplicate element id") }
                    t.chunkOf[a][Int(r.seq) + k] = UInt32(ci)
                }
                if !r.deleted {
                    guard pos + Int(r.len) <= scalars.count else { throw DecodeError("text content too short") }
                    for k in 0..<Int(r.len) { t.content[a][Int(r.seq) + k] = scalars[pos + k] }
                    pos += Int(r.len)
                    chunk.visible += Int(r.len)
                }
            }
            t.count += chunk.visible
            t.chunks.append(chunk)
            t.order.append(UInt32(ci))
            t.orderPos.append(UInt32(ci))
            ci += 1
            start = end
        } while start < runs.count
        guard pos == scalars.count else { throw DecodeError("text content length mismatch") }
        // Origins must reference known elements.
        for r in runs {
            if r.olAgent != TextCRDT.none && !t.contains(ElementID(agent: r.olAgent, seq: r.olSeq)) { throw DecodeError("dangling left origin") }
            if r.orAgent != TextCRDT.none && !t.contains(ElementID(agent: r.orAgent, seq: r.orSeq)) { throw DecodeError("dangling right origin") }
        }
        return t
    }
}
