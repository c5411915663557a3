import Foundation
import Histogram
import NIOCore

/// Latencies and counts gathered on one event loop (reached only there, through
/// `NIOLoopBound`; merged at the end).
final class LoadRecorder {
    var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000,
                                      numberOfSignificantValueDigits: .three)
    var count: UInt64 = 0
    var errors: UInt64 = 0
    let window: ClosedRange<NIODeadline>

    init(window: ClosedRange<NIODeadline>) {
        self.window = window
    }

    /// Records one completed operation that started at `start`, if it ended inside the window.
    @inline(__always)
    func record(start: NIODeadline, end: NIODeadline) {
        guard window.contains(end) else { return }
        count += 1
        let micros = UInt64(max(1, (end - start).nanoseconds / 1000))
        _ = histogram.record(min(micros, 60_000_000))
    }
}

/// What a benchmark prints: a human summary and, with --json, one JSON object as the last line.
struct BenchReport {
    var fields: [(String, Any)]

    func print(json: Bool) {
        if json {
            var object: [String: Any] = [:]
            for (k, v) in fields { object[k] = v }
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            Swift.print(String(decoding: data, as: UTF8.self))
        } else {
            for (k, v) in fields { Swift.print("\(k.padding(toLength: 24, withPad: " ", startingAt: 0)) \(v)") }
        }
    }

    static func latencyFields(_ h: Histogram<UInt64>, prefix: String = "latency") -> [(String, Any)] {
        [
            ("\(prefix)_p50_us", h.valueAtPercentile(50)),
            ("\(prefix)_p90_us", h.valueAtPercentile(90)),
            ("\(prefix)_p99_us", h.valueAtPercentile(99)),
            ("\(prefix)_max_us", h.max),
        ]
    }
}
