import NIOCore

extension ByteBuffer {
    /// Writes `string` as a JSON string: quotes, `\"`, `\\`, the short escapes for
    /// `\b \f \n \r \t`, `\u00XX` for other control characters; everything else (all
    /// non-ASCII included) as its UTF-8 bytes. No allocation beyond the buffer's growth.
    mutating func writeJSONString(_ string: String) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            writeJSONString(utf8: UnsafeRawBufferPointer(utf8))
        }
        if done == nil {
            var copy = string
            copy.withUTF8 { writeJSONString(utf8: UnsafeRawBufferPointer($0)) }
        }
    }

    mutating func writeJSONString(_ string: Substring) {
        writeJSONString(String(string))
    }

    mutating func writeJSONString(utf8 bytes: UnsafeRawBufferPointer) {
        reserveCapacity(minimumWritableBytes: bytes.count + 2)
        writeInteger(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            if runStart < i { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            switch b {
            case UInt8(ascii: "\""): writeStaticString("\\\"")
            case UInt8(ascii: "\\"): writeStaticString("\\\\")
            case 0x08: writeStaticString("\\b")
            case 0x0C: writeStaticString("\\f")
            case 0x0A: writeStaticString("\\n")
            case 0x0D: writeStaticString("\\r")
            case 0x09: writeStaticString("\\t")
            default:
                let hex: StaticString = "0123456789abcdef"
                writeStaticString("\\u00")
                writeInteger(hex.utf8Start[Int(b >> 4)])
                writeInteger(hex.utf8Start[Int(b & 0xF)])
            }
            i += 1
            runStart = i
        }
        if runStart < bytes.count { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count])) }
        writeInteger(UInt8(ascii: "\""))
    }

    /// Writes a decimal integer, without allocating.
    mutating func writeJSONInteger<Integer: FixedWidthInteger>(_ value: Integer) {
        if value == 0 {
            writeInteger(UInt8(ascii: "0"))
            return
        }
        var magnitude = UInt64(value.magnitude)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits and a sign
        withUnsafeMutableBytes(of: &digits) { scratch in
            var at = scratch.count
            while magnitude > 0 {
                at -= 1
                scratch[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            if value < 0 {
                at -= 1
                scratch[at] = UInt8(ascii: "-")
            }
            writeBytes(UnsafeRawBufferPointer(rebasing: scratch[at...]))
        }
    }

    mutating func writeRawJSON(_ value: RawJSON) {
        writeImmutableBuffer(value.bytes)
    }

    mutating func writeJSONBool(_ value: Bool) {
        if value { writeStaticString("true") } else { writeStaticString("false") }
    }
}
