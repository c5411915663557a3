/// One element of a `Sec-WebSocket-Extensions` header: a name and its
/// parameters, in order, with quoted values unquoted (RFC 6455 §9.1).
public struct WebSocketExtensionOffer: Equatable, Sendable {
    public var name: String
    public var parameters: [(name: String, value: String?)]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.name == rhs.name && lhs.parameters.elementsEqual(rhs.parameters, by: { $0.name == $1.name && $0.value == $1.value })
    }

    /// Parses every offer in the given header values (a header may repeat; each
    /// value is a comma-separated list). Malformed elements are skipped.
    public static func parse(_ headerValues: [String]) -> [WebSocketExtensionOffer] {
        var offers: [WebSocketExtensionOffer] = []
        for value in headerValues {
            for element in splitOutsideQuotes(value, separator: ",") {
                // "; foo" has an empty extension name: malformed, not an extension called "foo".
                guard !element.hasPrefix(";") else { continue }
                let parts = splitOutsideQuotes(element, separator: ";").map(trim)
                guard let name = parts.first, !name.isEmpty, isToken(name) else { continue }
                var parameters: [(String, String?)] = []
                var valid = true
                for part in parts.dropFirst() {
                    if let eq = part.firstIndex(of: "=") {
                        let key = trim(String(part[..<eq]))
                        var val = trim(String(part[part.index(after: eq)...]))
                        if val.count >= 2 && val.hasPrefix("\"") && val.hasSuffix("\"") {
                            val = String(val.dropFirst().dropLast())
                        }
                        guard isToken(key), !val.isEmpty, isToken(val) else { valid = false; break }
                        parameters.append((key.lowercased(), val))
                    } else {
                        guard isToken(part) else { valid = false; break }
                        parameters.append((part.lowercased(), nil))
                    }
                }
                if valid {
                    offers.append(WebSocketExtensionOffer(name: name.lowercased(), parameters: parameters))
                }
            }
        }
        return offers
    }

    private static func trim(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" { sub.removeFirst() }
        while let l = sub.last, l == " " || l == "\t" { sub.removeLast() }
        return String(sub)
    }

    private static func splitOutsideQuotes(_ s: String, separator: Character) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        for c in s {
            if c == "\"" { quoted.toggle() }
            if c == separator && !quoted {
                result.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        result.append(current)
        return result.map(trim).filter { !$0.isEmpty }
    }

    /// RFC 7230 token characters.
    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { b in
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(b)
            }
        }
    }
}

extension PerMessageDeflateParameters {
    /// Server side: picks the first acceptable permessage-deflate offer and
    /// returns the parameters to use (the response header is `headerValue`).
    /// Offers with unknown, repeated or out-of-range parameters are declined.
    public static func negotiate(offers: [WebSocketExtensionOffer], configuration: PerMessageDeflateConfiguration) -> PerMessageDeflateParameters? {
        guard configuration.enabled else { return nil }
        for offer in offers where offer.name == "permessage-deflate" {
            if let accepted = accept(offer, configuration) { return accepted }
        }
        return nil
    }

    private static func accept(_ offer: WebSocketExtensionOffer, _ configuration: PerMessageDeflateConfiguration) -> PerMessageDeflateParameters? {
        guard let offered = DeflateParameterSet(offer) else { return nil }
        // A client_max_window_bits offer (with or without a value) needs no answer: we
        // inflate with a 32 KiB window, which reads any window size, so we never ask the
        // client to shrink its window.
        return PerMessageDeflateParameters(
            serverNoContextTakeover: configuration.forceServerNoContextTakeover || offered.serverNoContextTakeover,
            clientNoContextTakeover: configuration.requireClientNoContextTakeover || offered.clientNoContextTakeover,
            serverMaxWindowBits: min(offered.serverMaxWindowBits ?? 15, min(15, max(8, configuration.serverMaxWindowBits))),
            clientMaxWindowBits: 15)
    }

    static func parseWindowBits(_ value: String) -> Int? {
        // RFC 7692 §7.1.2.1: a decimal integer without leading zeroes ("08" is not 8).
        guard value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              value.utf8.count <= 2, !value.hasPrefix("0"), let bits = Int(value), (8...15).contains(bits) else { return nil }
        return bits
    }

    /// Client side: validates the server's response to our offer.
    public static func fromServerResponse(_ offer: WebSocketExtensionOffer) -> PerMessageDeflateParameters? {
        guard offer.name == "permessage-deflate", let answered = DeflateParameterSet(offer) else { return nil }
        // In a response, client_max_window_bits must carry a value (RFC 7692 §7.1.2.2).
        if answered.clientMaxWindowBitsPresent && answered.clientMaxWindowBits == nil { return nil }
        return PerMessageDeflateParameters(
            serverNoContextTakeover: answered.serverNoContextTakeover,
            clientNoContextTakeover: answered.clientNoContextTakeover,
            serverMaxWindowBits: answered.serverMaxWindowBits ?? 15,
            clientMaxWindowBits: answered.clientMaxWindowBits ?? 15)
    }
}

/// The permessage-deflate parameters of one offer or response, checked for the
/// rules both sides share: known names only, none repeated, flags without a
/// value, window bits 8–15 written without leading zeroes.
private struct DeflateParameterSet {
    var serverNoContextTakeover = false
    var clientNoContextTakeover = false
    var serverMaxWindowBits: Int?
    var clientMaxWindowBitsPresent = false
    var clientMaxWindowBits: Int?

    init?(_ offer: WebSocketExtensionOffer) {
        var seen = Set<String>()
        for (name, value) in offer.parameters {
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value, let bits = PerMessageDeflateParameters.parseWindowBits(value) else { return nil }
                serverMaxWindowBits = bits
            case "client_max_window_bits":
                clientMaxWindowBitsPresent = true
                if let value {
                    guard let bits = PerMessageDeflateParameters.parseWindowBits(value) else { return nil }
                    clientMaxWindowBits = bits
                }
            default:
                return nil
            }
        }
    }
}
