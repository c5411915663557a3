public import LatticeProtocol

/// Why a subscribe with `since` could not be resumed without a gap.
public enum ResumeFailure: Sendable, Equatable {
    /// The stream's epoch is not the client's: its history was lost (e.g. recreated after restart).
    case epochChanged
    /// The events right after the client's offset are no longer retained.
    case historyTrimmed
    /// The client claims an offset beyond the newest one of this epoch.
    case offsetAhead
}

/// How a subscribe relates to what the client has seen.
public enum ResumeOutcome: Sendable, Equatable {
    /// No `since` was given: nothing to recover, live from the newest offset.
    case fresh
    /// Resumed: the backlog holds exactly the events after the client's offset.
    case recovered
    /// Not resumable: the client must refetch; live from the newest offset.
    case notRecovered(ResumeFailure)

    /// The `recovered` flag of the protocol's answer (`true` for fresh subscribes).
    public var recovered: Bool {
        if case .notRecovered = self { return false }
        return true
    }
}

/// The resume rule, as a pure function.
public enum ResumeDecision {
    /// `since` resumes when its epoch is the stream's and `oldestOffset - 1 ≤ offset ≤ newestOffset`:
    /// then the events `offset + 1 … newestOffset` are all retained (none when `offset` is newest).
    public static func decide(
        since: StreamPosition?, epoch: StreamEpoch, oldestOffset: UInt64, newestOffset: UInt64
    ) -> ResumeOutcome {
        guard let since else { return .fresh }
        guard since.epoch == epoch else { return .notRecovered(.epochChanged) }
        guard since.offset <= newestOffset else { return .notRecovered(.offsetAhead) }
        guard since.offset == newestOffset || since.offset + 1 >= oldestOffset else {
            return .notRecovered(.historyTrimmed)
        }
        return .recovered
    }
}
