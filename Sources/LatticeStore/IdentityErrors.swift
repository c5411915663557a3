import GRDB
import LatticeAuth

/// Identity accesses report `IdentityStoreError`s only.
extension SQLiteStore {
    /// One write transaction; rolled back if `body` throws. A unique violation becomes
    /// `alreadyExists(ifExists)`, a foreign key violation `notFound(ifMissing)`.
    func identityWrite<T: Sendable>(ifExists: String = "", ifMissing: String = "",
                                    _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write { db in try body(db) }
        } catch {
            throw Self.identityError(error, ifExists: ifExists, ifMissing: ifMissing)
        }
    }

    func identityRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read { db in try body(db) }
        } catch {
            throw Self.identityError(error, ifExists: "", ifMissing: "")
        }
    }

    /// Runs `body` (one statement, inside a transaction), naming the record in constraint errors.
    static func naming<T>(exists: String, missing: String = "", _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw identityError(error, ifExists: exists, ifMissing: missing)
        }
    }

    static func identityError(_ error: any Error, ifExists: String, ifMissing: String) -> IdentityStoreError {
        if let error = error as? IdentityStoreError { return error }
        if let error = error as? DatabaseError {
            switch error.extendedResultCode {
            case .SQLITE_CONSTRAINT_PRIMARYKEY, .SQLITE_CONSTRAINT_UNIQUE:
                return .alreadyExists(ifExists)
            case .SQLITE_CONSTRAINT_FOREIGNKEY:
                return .notFound(ifMissing)
            default:
                break
            }
        }
        return .storeFailed(String(describing: error))
    }
}
