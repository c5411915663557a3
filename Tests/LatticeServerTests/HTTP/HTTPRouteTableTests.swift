import NIOHTTP1
import Testing
@testable import LatticeServer

@Suite("HTTPRouteTable: which route owns a path, and 404/405")
struct HTTPRouteTableTests {
    private static func named(_ name: String) -> @Sendable (HTTPRequest) -> HTTPResponse {
        { _ in .text(.ok, name) }
    }

    private let table = HTTPRouteTable(routes: [
        .onLoop(HTTPRoutePattern("/items"), .only([.GET]), named("list")),
        .onLoop(HTTPRoutePattern("/items"), .only([.POST]), named("create")),
        .onLoop(HTTPRoutePattern("/items/special"), .only([.POST]), named("special")),
        .onLoop(HTTPRoutePattern("/items/{id}"), .only([.GET, .DELETE]), named("item")),
        .onLoop(HTTPRoutePattern("/streams/{stream...}/events"), .only([.GET]), named("events")),
    ], guard: HTTPRouteGuard(origins: OriginPolicy(), access: nil))

    private func resolve(_ method: HTTPMethod, _ path: String) -> String {
        switch table.resolve(method, path: path) {
        case .route(let route, let parameters):
            let sorted = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            return ([route.pattern.description] + sorted).joined(separator: " ")
        case .methodNotAllowed(let allow): return "405 " + allow.map(\.rawValue).joined(separator: ", ")
        case .notFound: return "404"
        }
    }

    @Test("routes with one pattern share out its methods; 405 lists them all in table order")
    func methods() {
        #expect(resolve(.GET, "/items") == "/items")
        #expect(resolve(.POST, "/items") == "/items")
        #expect(resolve(.PUT, "/items") == "405 GET, POST")
        #expect(resolve(.GET, "/items/7") == "/items/{id} id=7")
        #expect(resolve(.PUT, "/items/7") == "405 GET, DELETE")
    }

    @Test("the first matching pattern owns the path: a literal listed first wins over a parameter")
    func literalFirst() {
        #expect(resolve(.POST, "/items/special") == "/items/special")
        #expect(resolve(.DELETE, "/items/special") == "405 POST")
    }

    @Test("parameters are percent-decoded; a remainder takes one or more segments")
    func parameters() {
        #expect(resolve(.GET, "/items/a%20b") == "/items/{id} id=a b")
        #expect(resolve(.GET, "/streams/channel/ws/general/events") == "/streams/{stream...}/events stream=channel/ws/general")
        #expect(resolve(.GET, "/streams/x/events") == "/streams/{stream...}/events stream=x")
        #expect(resolve(.GET, "/streams/events") == "404")
    }

    @Test("empty segments, trailing slashes, encoded slashes and unknown paths are 404",
          arguments: ["/items/", "//items", "/items//7", "/items/a%2Fb", "/items/7/more", "/nothing", "/", "/items/%zz"])
    func notFound(path: String) {
        #expect(resolve(.GET, path) == "404")
    }
}
