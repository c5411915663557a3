import Logging
import UnixSignals
import ServiceLifecycle

extension ServiceGroup {
    /// The group a `lattice` server command runs: `services` start in order and, at SIGTERM or
    /// SIGINT, shut down gracefully one at a time in reverse order, each after the one above
    /// it has finished. The group logs only at debug level, so its logger is quiet unless a
    /// problem is worth a warning.
    static func lattice(services: [any Service]) -> ServiceGroup {
        var logger = Logger(label: "lattice.lifecycle") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }
}
