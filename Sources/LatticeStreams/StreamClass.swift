/// How a stream treats a subscriber that cannot keep up. The integration maps stream kinds onto
/// classes: `workspace/*`, `run/*`, `doc/*`, `graph/*` and channels marked durable are `.durable`;
/// `channel/{ws}/{name}` is `.ephemeral` by default; channels marked coalescing (cursors,
/// progress: publishes carrying a key) are `.coalescing`.
public enum StreamClass: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Never drops: a slow subscriber is paused and later caught up from history.
    case durable
    /// A bounded queue per slow subscriber; overflow drops the oldest and reports a gap.
    case ephemeral
    /// Only the latest event per key (and every keyless event) is kept for a slow subscriber.
    case coalescing

    public var description: String { rawValue }
}
