import Foundation

/// Dates are stored as INTEGER milliseconds since 1970: sortable, readable with SQLite's
/// `datetime(x / 1000, 'unixepoch')`, and the same unit as `stream_events.time_ms`.
extension Date {
    var storeMillis: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded())
    }

    init(storeMillis: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(storeMillis) / 1000)
    }
}
