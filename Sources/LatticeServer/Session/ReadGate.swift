/// Whether a session reads requests from its socket: only while the socket is writable (a
/// client that does not read its answers cannot keep sending) and while fewer than
/// `maxInFlight` requests wait on home loops (a fast publisher cannot pile up tasks on a busy
/// home loop). Throttling has hysteresis: it starts at `maxInFlight` outstanding answers and
/// ends at half of that, so a session near the limit does not flip reading on every answer.
///
/// Pure: the session reports what changed and applies the action returned.
struct ReadGate: Equatable {
    enum Action: Equatable {
        case startReading
        case stopReading
    }

    let maxInFlight: Int
    private(set) var isWritable: Bool
    private(set) var isThrottled = false
    /// Whether the socket is being read (what the last action said; reading at the start).
    private(set) var isReading = true

    init(maxInFlight: Int, writable: Bool = true) {
        precondition(maxInFlight >= 2, "maxInFlight must leave room for hysteresis")
        self.maxInFlight = maxInFlight
        self.isWritable = writable
    }

    /// The socket's writability changed (or is first known).
    mutating func writabilityChanged(_ writable: Bool) -> Action? {
        isWritable = writable
        return settle()
    }

    /// The number of answers still outstanding on home loops changed.
    mutating func outstandingChanged(_ outstanding: Int) -> Action? {
        if isThrottled, outstanding <= maxInFlight / 2 {
            isThrottled = false
        } else if !isThrottled, outstanding >= maxInFlight {
            isThrottled = true
        }
        return settle()
    }

    private mutating func settle() -> Action? {
        let read = isWritable && !isThrottled
        guard read != isReading else { return nil }
        isReading = read
        return read ? .startReading : .stopReading
    }
}
