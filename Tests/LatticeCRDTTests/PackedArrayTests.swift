@testable import LatticeCRDT
import Testing

@Suite struct PackedArrayTests {
    @Test func widensThroughEveryLevelAndKeepsValues() {
        var a = PackedArray<UInt8>(maxIsSentinel: false)
        a.append(65, count: 3)
        [255, 0].withUnsafeBufferPointer { a.append(contentsOf: $0) }
        #expect(a.level == 0)
        [0x2014].withUnsafeBufferPointer { a.append(contentsOf: $0) }
        #expect(a.level == 1)
        a[1] = 0x1F600
        #expect(a.level == 2)
        #expect((0..<a.count).map { a[$0] } == [65, 0x1F600, 65, 255, 0, 0x2014])
        var out: [UInt32] = []
        a.copy(2..<6, into: &out)
        #expect(out == [65, 255, 0, 0x2014])
    }

    @Test func sentinelSurvivesWidening() {
        var c = PackedArray<UInt16>(maxIsSentinel: true)
        c.append(UInt32.max, count: 2)
        c.append(7, count: 1)
        #expect(c.level == 0)
        c[0] = 65535          // not representable next to the 16-bit sentinel: widens
        #expect(c.level == 2)
        #expect([c[0], c[1], c[2]] == [65535, UInt32.max, 7])
        var d = PackedArray<UInt8>(maxIsSentinel: true)
        d.append(UInt32.max, count: 1)
        d.append(300, count: 1)
        #expect(d.level == 1)
        #expect([d[0], d[1]] == [UInt32.max, 300])
    }
}
