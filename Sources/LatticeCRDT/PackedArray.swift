/// An array of `UInt32` stored as narrow as its values allow: `N` per element, then `UInt16`,
/// then `UInt32` (widened in place when a value needs it, never narrowed back). Used for
/// per-character data (content code points, chunk index) so ASCII text costs one byte per
/// character, other BMP text two, and small documents two bytes per character of index.
///
/// If `maxIsSentinel`, the all-ones value of the current width stands for `UInt32.max` (an
/// "unknown" marker), and real values must be below it to stay at that width.
struct PackedArray<N: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    private(set) var narrow: [N] = []
    private(set) var mid: [UInt16] = []
    private(set) var wide: [UInt32] = []
    /// 0 = narrow, 1 = UInt16, 2 = UInt32
    private(set) var level: UInt8 = 0
    let maxIsSentinel: Bool

    init(maxIsSentinel: Bool) { self.maxIsSentinel = maxIsSentinel }

    init(repeating v: UInt32, count: Int, maxIsSentinel: Bool) {
        self.maxIsSentinel = maxIsSentinel
        append(v, count: count)
    }

    var count: Int { level == 0 ? narrow.count : (level == 1 ? mid.count : wide.count) }
    var capacityBytes: Int { narrow.capacity * MemoryLayout<N>.stride + mid.capacity * 2 + wide.capacity * 4 }

    @inline(__always) static func fits(_ v: UInt32, max m: UInt32, sentinel: Bool) -> Bool {
        sentinel ? (v == UInt32.max || v < m) : v <= m
    }
    /// The lowest level that can hold `v`.
    @inline(__always) func levelNeeded(_ v: UInt32) -> UInt8 {
        if PackedArray.fits(v, max: UInt32(N.max), sentinel: maxIsSentinel) { return 0 }
        if PackedArray.fits(v, max: UInt32(UInt16.max), sentinel: maxIsSentinel) { return 1 }
        return 2
    }

    mutating func widen(to l: UInt8) {
        guard l > level else { return }
        let all = (0..<count).map { self[$0] }
        narrow = []; mid = []; wide = []
        level = l
        if l == 1 {
            mid.reserveCapacity(all.count)
            for v in all { mid.append(v == UInt32.max && maxIsSentinel ? UInt16.max : UInt16(truncatingIfNeeded: v)) }
        } else {
            wide = all
        }
    }

    subscript(i: Int) -> UInt32 {
        @inline(__always) get {
            switch level {
            case 0: let v = narrow[i]; return maxIsSentinel && v == N.max ? UInt32.max : UInt32(v)
            case 1: let v = mid[i]; return maxIsSentinel && v == UInt16.max ? UInt32.max : UInt32(v)
            default: return wide[i]
            }
        }
        @inline(__always) set {
            let need = levelNeeded(newValue)
            if need > level { widen(to: need) }
            switch level {
            case 0: narrow[i] = newValue == UInt32.max && maxIsSentinel ? N.max : N(truncatingIfNeeded: newValue)
            case 1: mid[i] = newValue == UInt32.max && maxIsSentinel ? UInt16.max : UInt16(truncatingIfNeeded: newValue)
            default: wide[i] = newValue
            }
        }
    }

    mutating func append(_ v: UInt32, count n: Int) {
        let need = levelNeeded(v)
        if need > level { widen(to: need) }
        switch level {
        case 0: narrow.append(contentsOf: repeatElement(v == UInt32.max && maxIsSentinel ? N.max : N(truncatingIfNeeded: v), count: n))
        case 1: mid.append(contentsOf: repeatElement(v == UInt32.max && maxIsSentinel ? UInt16.max : UInt16(truncatingIfNeeded: v), count: n))
        default: wide.append(contentsOf: repeatElement(v, count: n))
        }
    }

    mutating func append(contentsOf vs: UnsafeBufferPointer<UInt32>) {
        var need = level
        for v in vs { let l = levelNeeded(v); if l > need { need = l; if need == 2 { break } } }
        if need > level { widen(to: need) }
        switch level {
        case 0: for v in vs { narrow.append(v == UInt32.max && maxIsSentinel ? N.max : N(truncatingIfNeeded: v)) }
        case 1: for v in vs { mid.append(v == UInt32.max && maxIsSentinel ? UInt16.max : UInt16(truncatingIfNeeded: v)) }
        default: wide.append(contentsOf: vs)
        }
    }

    /// Appends elements `range` to `out`.
    func copy(_ range: Range<Int>, into out: inout [UInt32]) {
        switch level {
        case 0: for v in narrow[range] { out.append(UInt32(v)) }
        case 1: for v in mid[range] { out.append(UInt32(v)) }
        default: out.append(contentsOf: wide[range])
        }
    }
}
