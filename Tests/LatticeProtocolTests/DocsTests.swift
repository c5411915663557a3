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
        for code in ErrorCode.allCases {
            #expect(text.contains("| `\(code.rawValue)` |"), "\(code.rawValue) missing from the error table")
        }
        for close in [LatticeCloseCode.slowConsumer, LatticeCloseCode.heartbeatTimeout, LatticeCloseCode.policyViolation] {
            #expect(text.contains("| \(close)"), "close code \(close) missing")
        }
    }
}
