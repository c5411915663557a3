import PropertyBased
import Testing

@testable import LatticeWebSocket

/// What the validator should say about `bytes`, computed with the standard
/// library's UTF-8 parser: `nil` when no byte is impossible, else the index of
/// the first byte after which the input can no longer become valid.
func referenceFirstImpossibleByte(_ bytes: [UInt8]) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var position = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let encoded):
            position += encoded.count
        case .emptyInput:
            return nil
        case .error(let length):
            // `length` is the maximal subpart (Unicode §3.9): the bytes that could still have
            // started a character. A lone byte that no character starts with is itself impossible.
            let lead = bytes[position]
            if !(0xC2...0xF4).contains(lead) { return position }
            let impossible = position + length
            return impossible < bytes.count ? impossible : nil  // else: merely truncated
        }
    }
}

/// Feeds `bytes` in the given chunks; returns the index of the byte the validator
/// refused (found by feeding the refused chunk again byte by byte) and whether it ended complete.
func validate(_ bytes: [UInt8], chunks: [Int]) -> (failedAt: Int?, complete: Bool) {
    var validator = UTF8Validator()
    var position = 0
    for chunk in chunks {
        let slice = Array(bytes[position..<(position + chunk)])
        let before = validator
        if !validator.validate(bytes: slice) {
            var v = before
            for (i, b) in slice.enumerated() where !v.validate(bytes: [b]) { return (position + i, false) }
            Issue.record("chunk refused but every byte of it accepted")
            return (position, false)
        }
        position += chunk
    }
    return (nil, validator.isComplete)
}

/// Random bytes that look like UTF-8 often enough to reach every state.
let utf8ishBytes = Generator<[UInt8], Shrink.None<[UInt8]>> { rng in
    let count = Int.random(in: 0...40, using: &rng)
    var out: [UInt8] = []
    let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
                                0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF]
    while out.count < count {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: out.append(UInt8.random(in: 0...255, using: &rng))
        case 1: out.append(interesting.randomElement(using: &rng)!)
        case 2: out.append(UInt8.random(in: 0x80...0xBF, using: &rng))
        case 3: out.append(UInt8.random(in: 0x20...0x7E, using: &rng))
        default:
            // A whole valid character, sometimes cut short.
            let scalar = [UInt32.random(in: 0x80...0x7FF, using: &rng), UInt32.random(in: 0x800...0xD7FF, using: &rng),
                          UInt32.random(in: 0xE000...0xFFFF, using: &rng), UInt32.random(in: 0x10000...0x10FFFF, using: &rng)]
                .randomElement(using: &rng)!
            var encoded = Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
            if Int.random(in: 0..<4, using: &rng) == 0 { encoded.removeLast(Int.random(in: 1..<encoded.count, using: &rng)) }
            out += encoded
        }
    }
    return out
}

@Suite struct UTF8ValidatorTests {
    @Test func agreesWithTheStandardLibraryInAnyChunking() async {
        await propertyCheck(count: 3000, input: utf8ishBytes, Gen.uint64()) { bytes, seed in
            let reference = referenceFirstImpossibleByte(bytes)
            let stdlibValid = String(validating: bytes, as: UTF8.self) != nil
            var rng = SplitMix(seed: seed)
            for chunks in [[bytes.count], Array(repeating: 1, count: bytes.count), randomChunking(bytes.count, using: &rng)] {
                let result = validate(bytes, chunks: chunks)
                #expect(result.failedAt == reference, "\(bytes.map { String($0, radix: 16) }) chunks \(chunks)")
                #expect((result.failedAt == nil && result.complete) == stdlibValid,
                        "\(bytes.map { String($0, radix: 16) }) chunks \(chunks)")
            }
        }
    }

    @Test func agreesOnArbitraryBytes() async {
        await propertyCheck(count: 1000, input: Gen.uint8().array(of: 0...24)) { bytes in
            let result = validate(bytes, chunks: [bytes.count])
            #expect(result.failedAt == referenceFirstImpossibleByte(bytes))
            #expect((result.failedAt == nil && result.complete) == (String(validating: bytes, as: UTF8.self) != nil))
        }
    }

    @Test func validTextInEveryTwoWaySplit() {
        let text = Array("ASCII then é, € and 𝄞, then more ASCII to pass the 8-byte fast path: 0123456789".utf8)
        for cut in 0...text.count {
            let result = validate(text, chunks: [cut, text.count - cut])
            #expect(result.failedAt == nil && result.complete, "cut \(cut)")
        }
        // Cut inside a character: valid so far, but not complete.
        #expect(validate(Array(text.prefix(12)), chunks: [12]) == (nil, false))
    }

    @Test(arguments: [
        ("C0 80", 0), ("C1 BF", 0), ("E0 80", 1), ("E0 9F BF", 1), ("ED A0 80", 1), ("ED BF BF", 1),
        ("F0 80", 1), ("F0 8F BF BF", 1), ("F4 90", 1), ("F4 BF BF BF", 1), ("F5", 0), ("FF", 0), ("80", 0),
        ("BF", 0), ("41 42 80", 2), ("C2 41", 1), ("E1 80 41", 2), ("F1 80 80 C0", 3), ("4142434445464748 FE", 8),
        ("CE BA E1 BD B9 CF 83 CE BC CE B5 ED A0 80 65 64 69 74 65 64", 12),
    ])
    func failsAtTheFirstImpossibleByte(_ hex: String, _ index: Int) {
        let bytes = [UInt8](hex: hex)
        #expect(validate(bytes, chunks: [bytes.count]).failedAt == index)
        #expect(validate(bytes, chunks: Array(repeating: 1, count: bytes.count)).failedAt == index)
        #expect(referenceFirstImpossibleByte(bytes) == index, "the reference disagrees: fix the test")
    }

    @Test(arguments: ["E0 A0", "F0 90 80", "F4 8F BF", "C2", "ED 9F"])
    func truncatedButPossiblyValid(_ hex: String) {
        let bytes = [UInt8](hex: hex)
        #expect(validate(bytes, chunks: [bytes.count]) == (nil, false))
    }

    @Test func boundaryCharactersAreAccepted() {
        for hex in ["7F", "C2 80", "DF BF", "E0 A0 80", "ED 9F BF", "EE 80 80", "EF BF BF", "F0 90 80 80", "F4 8F BF BF"] {
            let bytes = [UInt8](hex: hex)
            #expect(validate(bytes, chunks: [bytes.count]) == (nil, true), "\(hex)")
        }
    }

    @Test func resetForgetsAnUnfinishedCharacter() {
        var validator = UTF8Validator()
        let first = validator.validate(bytes: [0xE2, 0x82])
        #expect(first)
        #expect(!validator.isComplete)
        validator.reset()
        #expect(validator.isComplete)
        let second = validator.validate(bytes: [0xAC])
        #expect(!second)
    }
}
