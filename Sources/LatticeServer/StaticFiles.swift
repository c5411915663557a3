import Foundation
public import NIOCore

/// The browser app's files (`web/`), read into memory once at start-up so that
/// serving them never blocks an event loop. The folder is small by design
/// (plain ES modules and CSS, no build step).
public struct StaticFiles: Sendable {
    public struct File: Sendable {
        public var contentType: String
        public var body: ByteBuffer
    }

    private var files: [String: File] = [:]

    public init() {}

    /// Loads every regular file under `directory` (hidden files excluded).
    public init(directory: String) throws {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(atPath: root.path) else { return }
        while let relative = enumerator.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            let url = root.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let data = try Data(contentsOf: url)
            files["/" + relative] = File(contentType: Self.contentType(of: relative), body: ByteBuffer(bytes: data))
        }
    }

    public var count: Int { files.count }

    /// The file for a request path: `/` and folders map to their `index.html`.
    public func file(for requestPath: String) -> File? {
        var path = String(requestPath.prefix { $0 != "?" && $0 != "#" })
        if path.isEmpty || path.hasSuffix("/") { path += "index.html" }
        if path.contains("/../") || path.hasSuffix("/..") { return nil }
        return files[path] ?? files[path + "/index.html"]
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "json": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "txt", "md": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}
