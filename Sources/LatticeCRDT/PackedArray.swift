/// An array of `UInt32` stored narrow (`N` per element) until a value needs the full width.
/// Used for per-character data (content code points, chunk index) so ASCII text costs one byte
/// per character and small documents two bytes per character of index.
///
/// If `maxIsSentinel`, the narrow value `N.max` stands for `UInt32.max` (an "unknown" marker)
/// and real values must be below `N.max` to stay narrow.
struct PackedArray<N: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    private(set) var narrow: [N] = []
    private(set) var wide: [UInt32] = []
    private(set) var isWide = false
    let maxIsSentinel: Bool

    init(maxIsSentinel: Bool) { self.maxIsSentinel = maxIsSentinel }

    init(repeating v: UInt32, count: Int, maxIsSentinel: Bool) {
        self.maxIsSentinel = maxIsSentinel
        if fits(v) { narrow = [N](repeating: toNarrow(v), count: count) } else { isWide = true; wide = [UInt32](repeating: v, count: count) }
    }

    var count: Int { isWide ? wide.count : narrow.count }
    var capacityBytes: Int { isWide ? wide.capacity * 4 : narrow.capacity * MemoryLayout<N>.stride }

    @inline(__always) func fits(_ v: UInt32) -> Bool {
        if maxIsSentinel { return v == UInt32.max || v < UInt32(N.max) }
        return v <= UInt32(N.max)
    }
    @inline(__always) func toNarrow(_ v: UInt32) -> N { v == UInt32.max && maxIsSentinel ? N.max : N(truncatingIfNeeded: v) }

    mutating func widen() {
        guard !isWide else { return }
        wide.reserveCapacity(narrow.capacity)
        for v in narrow { wide.append(maxIsSentinel && v == N.max ? UInt32.max : UInt32(v)) }
        narrow = []
        isWide = true
    }

    subscript(i: Int) -> UInt32 {
        @inline(__always) get {
            if isWide { return wide[i] }
            let v = narrow[i]
            return maxIsSentinel && v == N.max ? UInt32.max : UInt32(v)
        }
        @inline(__always) set {
            if !isWide {
                if fits(newValue) { narrow[i] = toNarrow(newValue); return }
                widen()
            }
            wide[i] = newValue
        }
    }

    mutating func append(_ v: UInt32, count n: Int) {
        if !isWide {
            if fits(v) { narrow.append(contentsOf: repeatElement(toNarrow(v), count: n)); return }
            widen()
        }
        wide.append(contentsOf: repeatElement(v, count: n))
    }

    mutating func append(contentsOf vs: UnsafeBufferPointer<UInt32>) {
        if !isWide {
            var ok = true
            for v in vs where !fits(v) { ok = false; break }
            if ok {
                for v in vs { narrow.append(toNarrow(v)) }
                return
            }
            widen()
        }
        wide.append(contentsOf: vs)
    }

    /// Appends elements `range` to `out`.
    func copy(_ range: Range<Int>, into out: inout [UInt32]) {
        if isWide { out.append(contentsOf: wide[range]) } else { for v in narrow[range] { out.append(UInt32(v)) } }
    }
}
