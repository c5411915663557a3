/// Why a connection is failed. Each case maps to the close code we send
/// (see docs/websocket.md for the table).
public enum WebSocketProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    case reservedBitsSet
    case unknownOpcode(UInt8)
    case controlFrameFragmented
    case controlFrameTooLong(Int)
    case maskRequired
    case maskForbidden
    case nonMinimalLength
    case lengthHighBitSet
    case frameTooLarge(Int)
    case messageTooLarge
    case unexpectedContinuation
    case expectedContinuation
    case compressedControlFrame
    case compressedContinuation
    case invalidUTF8
    case invalidCloseCode(UInt16)
    case closePayloadTooShort
    case invalidCompressedData

    /// The close code sent to the peer when the connection is failed for this reason.
    public var closeCode: WebSocketCloseCode {
        switch self {
        case .invalidUTF8: return .invalidPayloadData
        case .frameTooLarge, .messageTooLarge: return .messageTooBig
        case .invalidCompressedData: return .invalidPayloadData
        default: return .protocolError
        }
    }

    /// Framing errors leave the byte stream out of sync: nothing after them can be parsed.
    public var desynchronisesStream: Bool {
        switch self {
        case .invalidUTF8, .messageTooLarge, .unexpectedContinuation, .expectedContinuation,
             .invalidCloseCode, .closePayloadTooShort, .invalidCompressedData, .compressedContinuation:
            return false
        default:
            return true
        }
    }

    public var description: String {
        switch self {
        case .reservedBitsSet: return "reserved bits set without a negotiated extension"
        case .unknownOpcode(let op): return "reserved opcode 0x\(String(op, radix: 16))"
        case .controlFrameFragmented: return "fragmented control frame"
        case .controlFrameTooLong(let n): return "control frame payload of \(n) bytes (max 125)"
        case .maskRequired: return "client frames must be masked"
        case .maskForbidden: return "server frames must not be masked"
        case .nonMinimalLength: return "payload length not minimally encoded"
        case .lengthHighBitSet: return "64-bit payload length with the high bit set"
        case .frameTooLarge(let n): return "frame of \(n) bytes exceeds the frame size limit"
        case .messageTooLarge: return "message exceeds the message size limit"
        case .unexpectedContinuation: return "continuation frame without a message in progress"
        case .expectedContinuation: return "new data frame while a fragmented message is in progress"
        case .compressedControlFrame: return "RSV1 set on a control frame"
        case .compressedContinuation: return "RSV1 set on a continuation frame"
        case .invalidUTF8: return "text is not valid UTF-8"
        case .invalidCloseCode(let c): return "close code \(c) is not allowed on the wire"
        case .closePayloadTooShort: return "close payload of 1 byte"
        case .invalidCompressedData: return "compressed payload does not inflate"
        }
    }
}
