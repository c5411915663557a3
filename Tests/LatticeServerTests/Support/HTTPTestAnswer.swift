import Foundation

/// One HTTP/1.1 answer as the HTTP tests see it.
struct HTTPTestAnswer: CustomStringConvertible {
    var status: Int
    /// Header names lowercased; repeated headers joined with ", ".
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    /// `error.code` of an error answer.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var description: String { "HTTP \(status) \(headers) \(text)" }

    /// The complete answers at the start of `bytes` (at most `limit`), and the bytes after them.
    static func parse(_ bytes: [UInt8], limit: Int = .max) -> ([HTTPTestAnswer], [UInt8]) {
        var answers: [HTTPTestAnswer] = []
        var rest = bytes[...]
        while answers.count < limit, let answer = parseOne(&rest) { answers.append(answer) }
        return (answers, Array(rest))
    }

    private static func parseOne(_ bytes: inout ArraySlice<UInt8>) -> HTTPTestAnswer? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
              let end = (bytes.startIndex...(bytes.endIndex - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        let length = headers["content-length"].flatMap(Int.init) ?? 0
        let bodyStart = end + 4
        guard bytes.endIndex - bodyStart >= length else { return nil }
        let body = Array(bytes[bodyStart..<bodyStart + length])
        bytes = bytes[(bodyStart + length)...]
        return HTTPTestAnswer(status: status, headers: headers, body: body)
    }
}
