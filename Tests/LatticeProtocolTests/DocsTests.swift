import Foundation
import NIOCore
import Testing

@testable import LatticeProtocol

/// docs/protocol.md's examples of errors are what the decoder and encoder produce.
@Suite struct DocsTests {
    static let protocolDoc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/protocol.md")

    @Test func errorExamplesAreExact() throws {
        let text = try String(contentsOf: Self.protocolDoc, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "### One error of each malformed kind").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```").dropFirst().first)
        let lines = block.split(separator: "\n").map(String.init)
        var checked = 0
        var k = 0
        while k + 1 < lines.count {
            defer { k += 2 }
            guard lines[k].hasPrefix("→ {"), lines[k + 1].hasPrefix("← "), !lines[k].contains("…") else { continue }
            let request = String(lines[k].dropFirst(2))
            let expected = String(lines[k + 1].dropFirst(2))
            let answer: String
            switch ClientRequest.decode(request) {
            case .success(let r): answer = "decoded \(r)"
            case .failure(let error): answer = String(buffer: encoded { ServerMessage.error(error, into: &$0) })
            }
            #expect(answer == expected, "for \(request)")
            checked += 1
        }
        #expect(checked == 13)
    }

    @Test func everyErrorCodeIsDocumented() throws {
        let text = try String(contentsOf: Self.protocolDoc, encoding: .utf8)
        let errors = try Self.table(after: "## Error codes", in: text)
        for code in ErrorCode.all {
            #expect(errors.contains { $0.hasPrefix("| `\(code.rawValue)` |") }, "\(code.rawValue) missing from the error table")
        }
        #expect(errors.count == ErrorCode.all.count, "the error table lists codes the table of codes lacks")
    }

    /// Every close code of the table is in docs/protocol.md's table of close codes, with its
    /// reason and its advice (reconnect or terminal), and the doc lists no other code.
    @Test func everyCloseCodeIsDocumentedWithItsAdvice() throws {
        let text = try String(contentsOf: Self.protocolDoc, encoding: .utf8)
        let rows = try Self.table(after: "## Close codes", in: text)
        for code in LatticeCloseCode.all {
            let head = code.reason.isEmpty ? "| \(code.rawValue) |" : "| \(code.rawValue) `\(code.reason)` |"
            let row = rows.first { $0.hasPrefix(head) }
            #expect(row != nil, "close code \(code) missing from the close code table")
            let advice = code.advice == .reconnect ? "| reconnect |" : "| terminal |"
            #expect(row?.contains(advice) == true, "close code \(code) must be marked \(advice)")
        }
        #expect(rows.count == LatticeCloseCode.all.count, "the close code table lists codes the table of codes lacks")
    }

    /// The body rows of the first Markdown table after `heading`.
    static func table(after heading: String, in text: String) throws -> [String] {
        let section = try #require(text.components(separatedBy: "\n" + heading + "\n").dropFirst().first)
        let lines = section.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("|") })
        let rows = lines[start...].prefix { $0.hasPrefix("|") }
        return Array(rows.dropFirst(2))  // the header and its |---| line
    }
}
