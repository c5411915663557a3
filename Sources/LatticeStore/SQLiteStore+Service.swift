public import ServiceLifecycle

/// The store as a service of `lattice serve`'s group: its group-commit writer (which also runs
/// the retention passes) works from `open` on; when the group shuts the store down — last, after
/// the server has stopped — `close()` commits every queued append and closes the database.
extension SQLiteStore: Service {
    public func run() async {
        // Returns at graceful shutdown; throws when the group is cancelled instead, and the
        // store is flushed and closed then too.
        try? await gracefulShutdown()
        close()
    }
}
