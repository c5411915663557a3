import ArgumentParser
import Foundation
import LatticeServer
import LatticeWebSocket
import NIOCore

/// Flags shared by `serve` and `echo`. Each can also come from an environment
/// variable (flag first, then the variable, then the default).
struct ServerOptions: ParsableArguments {
    @Option(help: "Address to listen on (env LATTICE_HOST).")
    var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (env LATTICE_PORT).")
    var port: Int?
    @Option(help: "Event-loop threads (env LATTICE_THREADS, default: one per core).")
    var threads: Int?
    @Option(help: "Largest frame accepted, in bytes (env LATTICE_MAX_FRAME_SIZE).")
    var maxFrameSize: Int?
    @Option(help: "Largest message accepted after reassembly and inflation, in bytes (env LATTICE_MAX_MESSAGE_SIZE).")
    var maxMessageSize: Int?
    @Option(help: "Comma-separated allowed browser Origin values, for WebSocket upgrades and cookie-authenticated API changes; without it, serve allows only its own origin and echo any (env LATTICE_ALLOWED_ORIGINS).")
    var allowedOrigins: String?
    @Flag(help: "Do not negotiate permessage-deflate (env LATTICE_NO_DEFLATE=1).")
    var noDeflate = false
    @Option(help: "Seconds of silence before the server pings; 0 disables (env LATTICE_PING_INTERVAL, default 30).")
    var pingInterval: Int?

    func settings(defaultPort: Int, defaultMaxMessage: Int) throws -> ServerSettings {
        let env = ProcessInfo.processInfo.environment
        func int(_ flag: Int?, _ name: String, _ fallback: Int) throws -> Int {
            try flagOrEnvironment(flag, name) ?? fallback
        }
        let maxMessage = try int(maxMessageSize, "LATTICE_MAX_MESSAGE_SIZE", defaultMaxMessage)
        let maxFrame = try int(maxFrameSize, "LATTICE_MAX_FRAME_SIZE", maxMessage)
        let origins = (allowedOrigins ?? env["LATTICE_ALLOWED_ORIGINS"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let deflateOff = noDeflate || env["LATTICE_NO_DEFLATE"] == "1"
        let ping = try int(pingInterval, "LATTICE_PING_INTERVAL", 30)
        let port = try int(port, "LATTICE_PORT", defaultPort)
        guard (0...65535).contains(port) else { throw ValidationError("port must be 0–65535") }
        guard maxFrame > 0, maxMessage > 0 else { throw ValidationError("size limits must be positive") }
        let webSocket = WebSocketConfiguration(
            maxFrameSize: maxFrame, maxMessageSize: maxMessage,
            deflate: deflateOff ? .disabled : PerMessageDeflateConfiguration(),
            pingInterval: ping > 0 ? .seconds(Int64(ping)) : nil)
        var settings = ServerSettings(
            host: host ?? env["LATTICE_HOST"] ?? "127.0.0.1",
            port: port,
            threads: try int(threads, "LATTICE_THREADS", System.coreCount),
            webSocket: webSocket)
        settings.allowedOrigins = origins
        return settings
    }
}

/// A flag's value, else the environment variable `name` parsed as `T`, else nil. A variable that
/// is set but does not parse is an error, never silently ignored.
func flagOrEnvironment<T: LosslessStringConvertible>(_ flag: T?, _ name: String) throws -> T? {
    if let flag { return flag }
    guard let raw = ProcessInfo.processInfo.environment[name], !raw.isEmpty else { return nil }
    guard let value = T(raw) else { throw ValidationError("\(name) must be a number, got '\(raw)'") }
    return value
}

/// Prints one line and makes sure it leaves the process now (tests wait for it).
func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
