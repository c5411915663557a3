import NIOCore
import ArgumentParser
import Foundation
import LatticeRuns
import LatticeServer
import LatticeStore
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Lattice server: the web app at /, health at /healthz, the REST API at /api, WebSocket (lattice.v1) at /ws.",
        discussion: """
            Everything is stored in SQLite under --data-dir. The first start on an empty data \
            directory creates the admin user and the `demo` workspace and prints a sign-in link \
            once (the token in it is an admin API token for 24 hours); later starts print nothing \
            secret, and `lattice admin signin-link` prints a new link.
            """)

    @OptionGroup var options: ServerOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "Folder of the browser app served at / (env LATTICE_WEB_ROOT, default ./web).")
    var webRoot: String?

    @Option(help: "Events of memory history kept per stream, every class (env LATTICE_HISTORY_EVENTS; default per class, see docs/streams.md).")
    var historyEvents: Int?

    @Option(help: "Most connections one IP address may hold (env LATTICE_MAX_CONNECTIONS_PER_ADDRESS, default 1024; 0: no limit).")
    var maxConnectionsPerAddress: Int?

    @Option(help: "Requests per second per connection (env LATTICE_RATE_MESSAGES, default 1000; 0: no limit). Bursts of twice that pass.")
    var rateMessages: Double?

    @Option(help: "Request bytes per second per connection (env LATTICE_RATE_BYTES, default 4 MiB; 0: no limit). Bursts of 4× pass.")
    var rateBytes: Double?

    @Flag(help: "With no --allowed-origins: accept browser requests (WebSocket upgrades, cookie-authenticated API changes) from any Origin, not only the server's own (env LATTICE_ANY_ORIGIN=1).")
    var anyOrigin = false

    @Option(help: ArgumentHelp("Stored history of durable streams, per kind: KIND=EVENTS/AGE, repeatable (e.g. run=1000000/30d, channel=10000/7d, all=none/90d; KIND workspace, run, doc, graph, channel or all; none: no limit). Env LATTICE_RETENTION, comma-separated. Default 1000000/30d for every kind.", valueName: "rule"))
    var retention: [String] = []

    @Option(help: "Seconds between retention passes (env LATTICE_RETENTION_INTERVAL, default 60).")
    var retentionInterval: Double?

    @Option(help: "Seconds a stream nobody uses stays loaded in memory (env LATTICE_STREAM_IDLE_TIMEOUT, default 60; an ephemeral channel stays at least until its history has aged out).")
    var streamIdleTimeout: Double?

    @Option(help: "Runs running at once on this server; more wait queued, in order (env LATTICE_MAX_RUNS, default 64).")
    var maxRuns: Int?

    @Option(help: "Runs running at once per workspace (env LATTICE_MAX_RUNS_PER_WORKSPACE, default 16).")
    var maxRunsPerWorkspace: Int?

    @Option(help: "Largest run inputs, in bytes of JSON (env LATTICE_MAX_RUN_INPUT_BYTES, default 65536).")
    var maxRunInputBytes: Int?

    @Option(help: "Seconds a bot worker holds a task without a heartbeat before it is taken back (env LATTICE_TASK_LEASE, default 30).")
    var taskLease: Double?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var settings = try options.settings(defaultPort: 8080, defaultMaxMessage: 1 << 20)
        if let history = try flagOrEnvironment(historyEvents, "LATTICE_HISTORY_EVENTS") {
            guard history >= 0 else { throw ValidationError("history events must not be negative") }
            settings.hub.historyEvents = history
        }
        let perAddress = try flagOrEnvironment(maxConnectionsPerAddress, "LATTICE_MAX_CONNECTIONS_PER_ADDRESS") ?? 1024
        guard perAddress >= 0 else { throw ValidationError("max connections per address must not be negative") }
        settings.maxConnectionsPerAddress = perAddress
        if let rate = try flagOrEnvironment(rateMessages, "LATTICE_RATE_MESSAGES") {
            guard rate >= 0 else { throw ValidationError("the message rate must not be negative") }
            settings.rateLimits.messagesPerSecond = rate
            settings.rateLimits.messageBurst = rate * 2
        }
        if let rate = try flagOrEnvironment(rateBytes, "LATTICE_RATE_BYTES") {
            guard rate >= 0 else { throw ValidationError("the byte rate must not be negative") }
            settings.rateLimits.bytesPerSecond = rate
            settings.rateLimits.byteBurst = rate * 4
        }
        settings.sameOriginOnly = !(anyOrigin || env["LATTICE_ANY_ORIGIN"] == "1")
        if let idle = try flagOrEnvironment(streamIdleTimeout, "LATTICE_STREAM_IDLE_TIMEOUT") {
            guard idle > 0, idle.isFinite else { throw ValidationError("the stream idle timeout must be a positive number of seconds") }
            settings.hub.idleStreamTimeout = .milliseconds(Int64(idle * 1000))
            // Look for idle streams often enough that the timeout holds to within a fifth of it.
            settings.hub.idleSweepInterval = .milliseconds(max(50, min(10_000, Int64(idle * 200))))
        }
        let root = webRoot ?? env["LATTICE_WEB_ROOT"] ?? "web"
        var isDirectory: ObjCBool = false
        let haveWeb = FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) && isDirectory.boolValue
        if !haveWeb {
            FileHandle.standardError.write(Data("warning: web root '\(root)' not found; serving no web app\n".utf8))
        }

        let rules: RetentionRules
        do {
            let specs = retention.isEmpty ? (env["LATTICE_RETENTION"] ?? "").split(separator: ",").map(String.init) : retention
            rules = try RetentionRules(parsing: specs.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        } catch {
            throw ValidationError(error.description)
        }
        let interval = try flagOrEnvironment(retentionInterval, "LATTICE_RETENTION_INTERVAL") ?? 60
        guard interval > 0, interval.isFinite else { throw ValidationError("the retention interval must be a positive number of seconds") }
        let database = try store.open(retention: rules, retentionInterval: .milliseconds(Int64(interval * 1000)))
        var services = ServerServices(
            access: AccessControl(store: database), streams: database,
            isDurableChannel: { database.isDurableChannel($0) },
            setChannelDurable: { try await database.setChannelDurable(workspaceID: $0, channel: $1, $2, by: $3) },
            isCoalescingChannel: { database.isCoalescingChannel($0) },
            setChannelCoalescing: { try await database.setChannelCoalescing(workspaceID: $0, channel: $1, $2, by: $3) })
        services.runs = database
        services.runLimits = try runLimits()
        let lease = try flagOrEnvironment(taskLease, "LATTICE_TASK_LEASE") ?? 30
        guard lease >= 0.1, lease <= 86_400 else { throw ValidationError("the task lease must be from 0.1 to 86400 seconds") }
        services.taskLeaseMillis = Int64(lease * 1000)
        let server: RunningServer
        do {
            server = try await CollaborationServer.start(settings: settings, webRoot: haveWeb ? root : nil, services: services)
        } catch {
            database.close()
            throw error
        }
        let base = "http://\(server.host):\(server.port)"
        // Before the listening line: scripts and tests read the first-start token from it.
        if let lines = try await Bootstrap.bootstrapIfEmpty(store: database, runs: database, baseURL: base) {
            announce(lines)
        }
        // Changes made outside this process (and token expiry) reach live sessions too: from
        // the store's head now, so that none made after the listening line is missed.
        let watcher = IdentityChangeWatcher(access: services.access, interval: settings.identityPollInterval,
                                            after: await IdentityChangeWatcher.head(of: services.access))
        announce("lattice serve listening on \(server.host):\(server.port) (web app \(base)/, WebSocket ws://\(server.host):\(server.port)/ws, data \(database.path))")
        // SIGTERM or SIGINT shuts the services down in reverse order: the watcher stops, the
        // server stops accepting, closes its WebSockets with 1001 and stops its loops, and the
        // store commits what is queued and closes.
        // Workspace activity recorded by the store (by this server, by `lattice admin`, or
        // before a crash) is published on `workspace/{ws}`.
        var group: [any Service] = [database, server, watcher]
        if let hub = server.hub {
            group.append(ActivityRelay(store: database, hub: hub, interval: settings.activityPollInterval))
        }
        try await ServiceGroup.lattice(services: group).run()
        announce("lattice serve stopped")
    }
}

extension ServeCommand {
    /// The executor's limits from the flags and the environment (docs/runs.md, "Limits").
    func runLimits() throws -> RunLimits {
        var limits = RunLimits()
        if let value = try flagOrEnvironment(maxRuns, "LATTICE_MAX_RUNS") {
            guard value >= 1 else { throw ValidationError("--max-runs must be at least 1") }
            limits.maxRunning = value
        }
        if let value = try flagOrEnvironment(maxRunsPerWorkspace, "LATTICE_MAX_RUNS_PER_WORKSPACE") {
            guard value >= 1 else { throw ValidationError("--max-runs-per-workspace must be at least 1") }
            limits.maxRunningPerWorkspace = value
        }
        if let value = try flagOrEnvironment(maxRunInputBytes, "LATTICE_MAX_RUN_INPUT_BYTES") {
            guard value >= 2 else { throw ValidationError("--max-run-input-bytes must be at least 2") }
            limits.maxInputBytes = value
        }
        return limits
    }
}

/// Where the database lives and how it commits (shared by `serve` and `admin`).
struct StoreOptions: ParsableArguments {
    @Option(help: "Data directory holding lattice.sqlite (env LATTICE_DATA_DIR, default ./lattice-data).")
    var dataDir: String?

    @Flag(inversion: .prefixedNo, help: "Group commit: appends that arrive together share one transaction (env LATTICE_GROUP_COMMIT=0 turns it off).")
    var groupCommit = true

    @Option(help: "SQLite synchronous mode: full (fsync every commit; survives power loss) or normal (survives process crashes) (env LATTICE_SYNC, default full).")
    var sync: String?

    var directory: String {
        dataDir ?? ProcessInfo.processInfo.environment["LATTICE_DATA_DIR"] ?? "lattice-data"
    }

    /// Opens the store; `retention` matters to the server only (its writer applies it).
    func open(retention: RetentionRules = RetentionRules(), retentionInterval: Duration = .seconds(60)) throws -> SQLiteStore {
        let env = ProcessInfo.processInfo.environment
        var options = SQLiteStoreOptions()
        options.retention = { retention.retention(for: $0) }
        options.retentionCheckInterval = retentionInterval
        options.groupCommit = groupCommit && env["LATTICE_GROUP_COMMIT"] != "0"
        switch (sync ?? env["LATTICE_SYNC"] ?? "full").lowercased() {
        case "full": options.synchronous = .full
        case "normal": options.synchronous = .normal
        case let other: throw ValidationError("--sync must be full or normal, not '\(other)'")
        }
        do {
            return try SQLiteStore.open(directory: directory, options: options)
        } catch {
            throw ValidationError("cannot open the database in '\(directory)': \(error)")
        }
    }
}
