import Foundation
import Testing

/// `lattice admin` commands that read a database refuse a missing one with one line naming the
/// path they looked at, instead of creating an empty `./lattice-data/` and answering nothing.
@Suite("access: lattice admin on a missing data directory")
struct AccessAdminDataDirTests {
    /// Runs `lattice` in `directory` with LATTICE_DATA_DIR unset; exit status, stdout, stderr.
    static func lattice(_ arguments: [String], in directory: String) throws -> (Int32, String, String) {
        try TestServerProcess.runBlocking(try TestServerProcess.locateBinary(), arguments, in: directory,
                                          unsetting: ["LATTICE_DATA_DIR"])
    }

    static func withEmptyDirectory(_ body: (String) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "lattice-nodata-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let real = try FileManager.default.destinationOfSymbolicLinkIfAny(directory)
        try body(real)
    }

    @Test("from another folder (default ./lattice-data): exit 1, one line naming the path, nothing created",
          arguments: [["admin", "user", "list"], ["admin", "workspace", "list"], ["admin", "audit"],
                      ["admin", "token", "revoke", "t_0000000000000000"]])
    func defaultDirectoryMissing(_ arguments: [String]) throws {
        try Self.withEmptyDirectory { directory in
            let (status, out, err) = try Self.lattice(arguments, in: directory)
            #expect(status != 0)
            #expect(out.isEmpty, "\(out)")
            let lines = err.split(separator: "\n")
            #expect(lines.count == 1, "\(err)")
            let expected = (directory as NSString).appendingPathComponent("lattice-data/lattice.sqlite")
            #expect(err.contains(expected), "\(err)")
            #expect(!FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("lattice-data")))
        }
    }

    @Test("--data-dir naming a missing directory: exit 1, the line names it, nothing created")
    func explicitDirectoryMissing() throws {
        try Self.withEmptyDirectory { directory in
            let missing = (directory as NSString).appendingPathComponent("nowhere")
            let (status, _, err) = try Self.lattice(["admin", "user", "list", "--data-dir", missing], in: directory)
            #expect(status == 1)
            #expect(err.split(separator: "\n").count == 1, "\(err)")
            #expect(err.contains(missing + "/lattice.sqlite"), "\(err)")
            #expect(!FileManager.default.fileExists(atPath: missing))
        }
    }

    @Test("lattice admin init still creates the first database, and then the other commands read it")
    func initCreates() throws {
        try Self.withEmptyDirectory { directory in
            let data = (directory as NSString).appendingPathComponent("data")
            let (status, out, err) = try Self.lattice(["admin", "init", "--data-dir", data], in: directory)
            #expect(status == 0, "\(out) \(err)")
            #expect(FileManager.default.fileExists(atPath: data + "/lattice.sqlite"))
            let (listed, users, _) = try Self.lattice(["admin", "user", "list", "--data-dir", data], in: directory)
            #expect(listed == 0)
            #expect(users.contains("admin"), "\(users)")
        }
    }
}

extension FileManager {
    /// The path with symbolic links resolved (the child process reports its real working directory).
    func destinationOfSymbolicLinkIfAny(_ path: String) throws -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
