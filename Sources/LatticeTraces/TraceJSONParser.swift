/// Minimal streaming JSON reader specialised for editing traces.
struct TraceJSONParser {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    typealias E = EditingTrace.LoadError

    mutating func ws() {
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { i += 1 } else { break }
        }
    }

    mutating func expect(_ c: UInt8) throws {
        ws()
        guard i < bytes.count, bytes[i] == c else { throw E.format("expected '\(Character(Unicode.Scalar(c)))' at byte \(i)") }
        i += 1
    }

    /// Peeks (after whitespace) whether the next byte is `c`; consumes it if so.
    mutating func take(_ c: UInt8) -> Bool {
        ws()
        if i < bytes.count && bytes[i] == c { i += 1; return true }
        return false
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw E.format("bad \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]; i += 1
            v <<= 4
            switch c {
            case 0x30...0x39: v |= UInt32(c - 0x30)
            case 0x41...0x46: v |= UInt32(c - 0x41 + 10)
            case 0x61...0x66: v |= UInt32(c - 0x61 + 10)
            default: throw E.format("bad \\u escape")
            }
        }
        return v
    }

    /// Reads a JSON string, appending its Unicode scalar values to `out`.
    mutating func string(into out: inout [UInt32]) throws {
        try expect(0x22)
        while true {
            guard i < bytes.count else { throw E.format("unterminated string") }
            let c = bytes[i]
            if c == 0x22 { i += 1; return }
            if c == 0x5c {
                guard i + 1 < bytes.count else { throw E.format("bad escape") }
                let e = bytes[i + 1]; i += 2
                switch e {
                case 0x22: out.append(0x22)
                case 0x5c: out.append(0x5c)
                case 0x2f: out.append(0x2f)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0c)
                case 0x6e: out.append(0x0a)
                case 0x72: out.append(0x0d)
                case 0x74: out.append(0x09)
                case 0x75:
                    var v = try hex4()
                    if v >= 0xD800 && v < 0xDC00 {
                        guard i + 6 <= bytes.count, bytes[i] == 0x5c, bytes[i + 1] == 0x75 else { throw E.format("lone surrogate") }
                        i += 2
                        let lo = try hex4()
                        guard lo >= 0xDC00 && lo < 0xE000 else { throw E.format("bad surrogate pair") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                    } else if v >= 0xDC00 && v < 0xE000 {
                        throw E.format("lone surrogate")
                    }
                    out.append(v)
                default: throw E.format("bad escape")
                }
            } else if c < 0x80 {
                out.append(UInt32(c)); i += 1
            } else {
                // UTF-8 multi-byte sequence
                let n = c >= 0xF0 ? 4 : (c >= 0xE0 ? 3 : 2)
                guard c >= 0xC2, i + n <= bytes.count else { throw E.format("invalid UTF-8") }
                var v = UInt32(c) & (n == 2 ? 0x1F : (n == 3 ? 0x0F : 0x07))
                for k in 1..<n {
                    let b = bytes[i + k]
                    guard b & 0xC0 == 0x80 else { throw E.format("invalid UTF-8") }
                    v = (v << 6) | UInt32(b & 0x3F)
                }
                out.append(v)
                i += n
            }
        }
    }

    mutating func stringValue() throws -> String {
        var sc: [UInt32] = []
        try string(into: &sc)
        var s = String.UnicodeScalarView()
        for v in sc {
            guard let u = Unicode.Scalar(v) else { throw E.format("invalid scalar") }
            s.append(u)
        }
        return String(s)
    }

    mutating func int() throws -> Int {
        ws()
        var neg = false
        if i < bytes.count && bytes[i] == 0x2d { neg = true; i += 1 }
        var v = 0
        var digits = 0
        while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
            v = v &* 10 &+ Int(bytes[i] - 0x30); i += 1; digits += 1
            if digits > 18 { throw E.format("number too large") }
        }
        guard digits > 0 else { throw E.format("expected integer at byte \(i)") }
        if i < bytes.count, bytes[i] == 0x2e || bytes[i] == 0x65 || bytes[i] == 0x45 { throw E.format("expected integer at byte \(i)") }
        return neg ? -v : v
    }

    /// Skips any JSON value.
    mutating func skipValue(depth: Int = 0) throws {
        guard depth < 512 else { throw E.format("nested too deeply") }
        ws()
        guard i < bytes.count else { throw E.format("unexpected end") }
        switch bytes[i] {
        case 0x22:
            i += 1
            while i < bytes.count && bytes[i] != 0x22 { i += bytes[i] == 0x5c ? 2 : 1 }
            guard i < bytes.count else { throw E.format("unterminated string") }
            i += 1
        case 0x7b:
            i += 1
            if take(0x7d) { return }
            repeat {
                try skipValue(depth: depth + 1)   // key
                try expect(0x3a)
                try skipValue(depth: depth + 1)
            } while take(0x2c)
            try expect(0x7d)
        case 0x5b:
            i += 1
            if take(0x5d) { return }
            repeat { try skipValue(depth: depth + 1) } while take(0x2c)
            try expect(0x5d)
        default:
            while i < bytes.count {
                let c = bytes[i]
                if c == 0x2c || c == 0x7d || c == 0x5d || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { break }
                i += 1
            }
        }
    }

    mutating func key() throws -> [UInt8] {
        try expect(0x22)
        let s = i
        while i < bytes.count && bytes[i] != 0x22 { i += bytes[i] == 0x5c ? 2 : 1 }
        guard i < bytes.count else { throw E.format("unterminated key") }
        let k = Array(bytes[s..<i])
        i += 1
        try expect(0x3a)
        return k
    }

    mutating func parseTrace() throws -> EditingTrace {
        var start = "", end: String? = nil, kind = "", numAgents = 1
        var txns: [EditingTrace.Txn] = []
        var patches: [EditingTrace.Patch] = []
        var ins: [UInt32] = []
        var sawTxns = false
        try expect(0x7b)
        if !take(0x7d) {
            repeat {
                switch String(decoding: try key(), as: UTF8.self) {
                case "startContent": start = try stringValue()
                case "endContent": end = try stringValue()
                case "kind": kind = try stringValue()
                case "numAgents": numAgents = try int()
                case "txns":
                    sawTxns = true
                    try expect(0x5b)
                    if !take(0x5d) {
                        repeat {
                            try parseTxn(index: txns.count, into: &txns, &patches, &ins)
                        } while take(0x2c)
                        try expect(0x5d)
                    }
                default: try skipValue()
                }
            } while take(0x2c)
            try expect(0x7d)
        }
        ws()
        guard i == bytes.count else { throw E.format("trailing data after trace") }
        guard let endContent = end else { throw E.format("missing endContent") }
        guard sawTxns else { throw E.format("missing txns") }
        let concurrent = kind == "concurrent"
        if concurrent {
            for (ti, t) in txns.enumerated() {
                if t.parents.contains(where: { $0 < 0 || $0 >= ti }) { throw E.format("txn \(ti) has an invalid parent") }
                numAgents = max(numAgents, t.agent + 1)
            }
        } else {
            for ti in txns.indices { txns[ti].agent = 0; txns[ti].parents = [] }
            numAgents = 1
        }
        return EditingTrace(kind: concurrent ? .concurrent : .sequential, startContent: start, endContent: endContent,
                            numAgents: max(numAgents, 1), txns: txns, patches: patches, insertScalars: ins)
    }

    mutating func parseTxn(index: Int, into txns: inout [EditingTrace.Txn], _ patches: inout [EditingTrace.Patch], _ ins: inout [UInt32]) throws {
        var agent = 0
        var parents: [Int] = []
        let patchStart = patches.count
        var sawPatches = false
        try expect(0x7b)
        if !take(0x7d) {
            repeat {
                let k = try key()
                if k.elementsEqual("patches".utf8) {
                    sawPatches = true
                    try expect(0x5b)
                    if !take(0x5d) {
                        repeat {
                            try expect(0x5b)
                            let pos = try int()
                            try expect(0x2c)
                            let del = try int()
                            let s = ins.count
                            if take(0x2c) { try string(into: &ins) }
                            try expect(0x5d)
                            guard pos >= 0, del >= 0 else { throw E.format("txn \(index) has a negative position or length") }
                            patches.append(.init(pos: pos, delete: del, insertStart: s, insertCount: ins.count - s))
                        } while take(0x2c)
                        try expect(0x5d)
                    }
                } else if k.elementsEqual("agent".utf8) {
                    agent = try int()
                    guard agent >= 0 else { throw E.format("txn \(index) has a negative agent") }
                } else if k.elementsEqual("parents".utf8) {
                    try expect(0x5b)
                    if !take(0x5d) {
                        repeat { parents.append(try int()) } while take(0x2c)
                        try expect(0x5d)
                    }
                } else {
                    try skipValue()
                }
            } while take(0x2c)
            try expect(0x7d)
        }
        guard sawPatches else { throw E.format("txn \(index) has no patches") }
        txns.append(.init(patchStart: patchStart, patchCount: patches.count - patchStart, agent: agent, parents: parents))
    }
}
