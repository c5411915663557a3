/// Checks on names and ids that come from users, with messages the API returns as they are.
public enum Validation {
    /// A display name: 1–64 bytes, no control characters.
    public static func displayName(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 64,
              !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return "a name must be 1 to 64 bytes without control characters"
        }
        return nil
    }

    /// A workspace id or channel name: a stream-name segment of 1–64 bytes of `A–Z a–z 0–9 . _ ~ -`.
    public static func segment(_ id: String, what: String) -> String? {
        guard !id.isEmpty, id.utf8.count <= 64, id.utf8.allSatisfy(isSegmentByte) else {
            return "\(what) must be 1 to 64 characters of A-Z a-z 0-9 . _ ~ -"
        }
        return nil
    }

    static func isSegmentByte(_ b: UInt8) -> Bool {
        (65...90).contains(b) || (97...122).contains(b) || (48...57).contains(b) || b == 46 || b == 95 || b == 126 || b == 45
    }
}
