import Foundation
import LatticeAuth
import LatticeStreams
import NIOCore
import Synchronization
@testable import LatticeStore

/// A fresh directory for one test, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("lattice-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// A store in a fresh directory, closed and removed afterwards.
func withStore<T>(_ options: SQLiteStoreOptions = SQLiteStoreOptions(),
                  _ body: (SQLiteStore, String) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        let store = try SQLiteStore.open(directory: directory, options: options)
        defer { store.close() }
        return try await body(store, directory)
    }
}

/// The identity store adapters the shared contract tests run on.
enum IdentityStoreKind: String, CaseIterable, CustomStringConvertible {
    case memory, sqlite
    var description: String { rawValue }
}

/// A fresh identity store of `kind` (SQLite: in a fresh directory, closed and removed afterwards).
func withIdentityStore<T>(_ kind: IdentityStoreKind, _ body: (any IdentityStore) async throws -> T) async throws -> T {
    switch kind {
    case .memory: return try await body(MemoryIdentityStore())
    case .sqlite: return try await withStore { store, _ in try await body(store) }
    }
}

func databasePath(_ directory: String) -> String {
    (directory as NSString).appendingPathComponent("lattice.sqlite")
}

/// One completed append, in completion order.
struct AppendOutcome: Sendable {
    var stream: String
    var data: String
    var result: Result<UInt64, DurableAppendError>
}

/// Queues every event at once (so they can be grouped), then waits for every completion.
func appendAll(_ store: SQLiteStore, _ events: [(stream: String, data: String)]) async -> [AppendOutcome] {
    guard !events.isEmpty else { return [] }
    return await withCheckedContinuation { continuation in
        let outcomes = Mutex<[AppendOutcome]>([])
        for (stream, data) in events {
            store.append(stream: stream, data: ByteBuffer(string: data), key: nil, attachment: nil) { result in
                let all = outcomes.withLock { outcomes in
                    outcomes.append(AppendOutcome(stream: stream, data: data, result: result))
                    return outcomes.count == events.count ? outcomes : nil
                }
                if let all { continuation.resume(returning: all) }
            }
        }
    }
}

/// Appends one event and waits for it.
func append(_ store: SQLiteStore, _ stream: String, _ data: String, key: String? = nil,
            attachment: (any DurableAppendAttachment)? = nil) async -> Result<UInt64, DurableAppendError> {
    await withCheckedContinuation { continuation in
        store.append(stream: stream, data: ByteBuffer(string: data), key: key, attachment: attachment) { continuation.resume(returning: $0) }
    }
}

/// `n` JSON values `1`…`n`.
func numbered(_ stream: String, _ n: Int) -> [(stream: String, data: String)] {
    (1...n).map { (stream, "\($0)") }
}

extension StoredStreamEvent {
    var string: String { String(buffer: data) }
}

let t0 = Date(timeIntervalSince1970: 1_700_000_000)

func sampleUser(_ id: String, name: String? = nil, at: Date = t0) -> User {
    User(id: id, name: name ?? id, kind: .user, isAdmin: false, createdAt: at)
}

func sampleToken(_ id: String, user: String, workspace: String? = nil, at: Date = t0) -> TokenRecord {
    TokenRecord(id: id, userID: user, kind: workspace == nil ? .api : .bot, secretHash: Data([1, 2, 3, UInt8(id.count)]),
                scopes: [.write, .read], workspaceID: workspace, capabilities: workspace == nil ? [] : ["build", "test"],
                label: "label \(id)", createdAt: at, expiresAt: at.addingTimeInterval(3600))
}

func sampleInvitation(_ id: String, workspace: String, role: Role = .editor, by: String,
                      expiresIn: TimeInterval = 3600) -> Invitation {
    Invitation(id: id, workspaceID: workspace, role: role, secretHash: Data([9, 9]), createdBy: by,
               createdAt: t0, expiresAt: t0.addingTimeInterval(expiresIn))
}
