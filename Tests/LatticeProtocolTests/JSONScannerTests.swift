import Foundation
import NIOCore
import Testing

@testable import LatticeProtocol

/// The scanner against Foundation's JSONSerialization: what we accept (and so may forward
/// verbatim to other clients) every strict parser must accept.
@Suite struct JSONScannerTests {
    func ours(_ bytes: [UInt8], maxDepth: Int = 512) -> Bool {
        bytes.withUnsafeBytes { (try? JSONScanner.validate($0, maxDepth: maxDepth)) != nil }
    }

    @Test func validCorpus() {
        let corpus = [
            "0", "-0", "1", "-1", "0.5", "1e5", "1E-5", "-1.25e+10", "123456789012345678901234567890", "true", "false", "null",
            #""""#, #""a""#, #""\"\\\/\b\f\n\r\t""#, #""\u0000\u00e9\uD83C\uDF89\uffff""#, "\"é中🎉\u{7F}\"",
            "[]", "[ ]", "[1,[2,[3]]]", "{}", "{ }", #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#, " \t\r\n[1] \t\r\n",
            #"{"":""}"#, #"{"a":1,"a":2}"#,
        ]
        for text in corpus {
            let bytes = Array(text.utf8)
            #expect(ours(bytes), "\(text)")
            #expect(foundationParse(bytes) != nil, "Foundation refuses \(text)")
        }
    }

    @Test func invalidCorpusIsAlsoRefusedByFoundation() {
        let corpus = [
            "", " ", "01", "1.", ".1", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "tru", "nulll", "True",
            "'a'", #""a"#, "\"\t\"", #""\x""#, #""\u00G0""#, "[,1]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}",
            "[1]]", "{}}", "1 2", "\"a\" \"b\"",
        ]
        for text in corpus {
            let bytes = Array(text.utf8)
            #expect(!ours(bytes), "\(text)")
            #expect(foundationParse(bytes) == nil, "Foundation accepts \(text)")
        }
    }

    /// Foundation on Linux accepts trailing commas; we do not.
    @Test func trailingCommas() {
        for text in ["[1,]", #"{"a":1,}"#, "[[],]"] {
            #expect(!ours(Array(text.utf8)), "\(text)")
        }
    }

    /// Where we are deliberately stricter than RFC 8259's grammar.
    @Test func stricterThanTheGrammar() {
        for text in ["1e309", "-1e309", "1E400", "123e99999999999999999999", String(repeating: "9", count: 400), "1" + String(repeating: "0", count: 309) + ".5"] {
            #expect(!ours(Array(text.utf8)), "number out of range: \(text)")
            #expect(foundationParse(Array(text.utf8)) == nil, "Foundation accepts \(text)")
        }
        for text in ["1e308", "-1.7976931348623157e308", "1e-400", String(repeating: "9", count: 300), "123456789012345678901234567890"] {
            #expect(ours(Array(text.utf8)), "number in range: \(text)")
        }
        #expect(!ours(Array(#""\ud800""#.utf8)), "unpaired high surrogate")
        #expect(!ours(Array(#""\udc00""#.utf8)), "unpaired low surrogate")
        #expect(!ours(Array(#""\ud800\ud800""#.utf8)), "two high surrogates")
        #expect(!ours([0xEF, 0xBB, 0xBF] + Array("{}".utf8)), "byte order mark")
        #expect(!ours(Array("[[[]]]".utf8), maxDepth: 2))
    }

    @Test func errorsSayWhere() {
        let error = [UInt8](#"{"a":[1,2,}"#.utf8).withUnsafeBytes { raw -> JSONSyntaxError? in
            do throws(JSONSyntaxError) {
                _ = try JSONScanner.validate(raw, maxDepth: 64)
                return nil
            } catch { return error }
        }
        #expect(error?.offset == 10)
        #expect(error?.message == "invalid JSON at byte 10: unexpected character")
    }

    /// Random valid JSON, then random single-byte damage: whenever we accept, Foundation accepts;
    /// and on undamaged input both accept.
    @Test func mutationsAgreeWithFoundation() {
        var rng = SplitMix(seed: 0x5EED_0001)
        let damage: [UInt8] = Array(#"{}[],:"\ 0123456789.eE+-tfnulx"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xFF]
        var accepted = 0
        for _ in 0..<3000 {
            var bytes = Array(randomJSON(using: &rng).utf8)
            #expect(ours(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            #expect(foundationParse(bytes) != nil, "Foundation refuses \(String(decoding: bytes, as: UTF8.self))")
            let at = Int.random(in: 0...bytes.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where at < bytes.count: bytes.remove(at: at)
            case 1 where at < bytes.count: bytes[at] = damage.randomElement(using: &rng)!
            default: bytes.insert(damage.randomElement(using: &rng)!, at: at)
            }
            if ours(bytes) {
                accepted += 1
                #expect(foundationParse(bytes) != nil, "we accept what Foundation refuses: \(bytes)")
            }
        }
        #expect(accepted > 100, "the mutations should leave some inputs valid")
    }
}
