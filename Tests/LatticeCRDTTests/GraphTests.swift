import LatticeCRDT
import Testing

@Suite struct GraphRuleTests {
    let kg = ["kg"]
    let u = Actor.user("u")

    func sync(_ a: inout Document, _ b: inout Document) throws {
        for op in b.log { try a.apply(op) }
        for op in a.log { try b.apply(op) }
    }

    func base() throws -> (Document, Document) {
        var a = Document(replica: "a"), b = Document(replica: "b")
        _ = a.addNode(kg, id: "ada", type: "Person", label: "Ada", actor: u)
        _ = a.addNode(kg, id: "ae", type: "Machine", label: "Analytical Engine", actor: u)
        _ = a.addEdge(kg, id: "e1", source: "ada", target: "ae", type: "programmed", actor: u)
        try sync(&a, &b)
        return (a, b)
    }

    /// Rule 1: add-wins existence — a remove concurrent with a re-add loses.
    @Test func concurrentAddAndRemoveOfNodeAddWins() throws {
        var (a, b) = try base()
        _ = a.removeNode(kg, id: "ada", actor: u)
        _ = b.addNode(kg, id: "ada", type: "Person", label: "Ada Lovelace", actor: u)
        try sync(&a, &b)
        #expect(a.graph(kg).nodeExists("ada"))
        #expect(a.graph(kg).state == b.graph(kg).state)
        #expect(a.graph(kg).nodes["ada"]?.label.value == .string("Ada Lovelace"))
    }

    @Test func removeAfterSeeingAddRemoves() throws {
        var (a, b) = try base()
        _ = a.removeEdge(kg, id: "e1", actor: u)
        try sync(&a, &b)
        #expect(!b.graph(kg).edgeVisible("e1"))
        #expect(b.graph(kg).hiddenEdgeIDs.isEmpty)
    }

    /// Rule 2: an edge whose endpoint is concurrently removed is hidden, and comes back if the
    /// node is re-added.
    @Test func edgeWithConcurrentlyRemovedEndpointIsHiddenThenReturns() throws {
        var (a, b) = try base()
        _ = a.removeNode(kg, id: "ae", actor: u)
        _ = b.addEdge(kg, id: "e2", source: "ada", target: "ae", type: "wrote-notes-on", actor: u)
        try sync(&a, &b)
        for d in [a, b] {
            #expect(!d.graph(kg).nodeExists("ae"))
            #expect(!d.graph(kg).edgeVisible("e1"))
            #expect(!d.graph(kg).edgeVisible("e2"))
            #expect(d.graph(kg).hiddenEdgeIDs == ["e1", "e2"])
        }
        _ = b.addNode(kg, id: "ae", type: "Machine", label: "Analytical Engine", actor: u)
        try sync(&a, &b)
        #expect(a.graph(kg).visibleEdgeIDs == ["e1", "e2"])
        #expect(a.graph(kg).state == b.graph(kg).state)
    }

    /// Rule 3: concurrent property writes — same key: higher (lamport, replica) wins; different
    /// keys: both survive.
    @Test func concurrentPropertyWrites() throws {
        var (a, b) = try base()
        _ = a.setNodeProperty(kg, id: "ada", key: "born", .int(1815), actor: u)
        _ = b.setNodeProperty(kg, id: "ada", key: "born", .int(1816), actor: u)
        _ = b.setNodeProperty(kg, id: "ada", key: "title", .string("Countess"), actor: u)
        _ = a.setEdgeProperty(kg, id: "e1", key: "year", .int(1843), actor: u)
        try sync(&a, &b)
        // Same Lamport timestamp: replica "b" > "a" wins.
        #expect(a.graph(kg).nodes["ada"]?.properties["born"] == .int(1816))
        #expect(a.graph(kg).nodes["ada"]?.properties["title"] == .string("Countess"))
        #expect(b.graph(kg).edges["e1"]?.properties["year"] == .int(1843))
        #expect(a.graph(kg).state == b.graph(kg).state)
        // A later write (higher Lamport) wins regardless of replica.
        _ = a.setNodeProperty(kg, id: "ada", key: "born", .int(1815), actor: u)
        try sync(&a, &b)
        #expect(b.graph(kg).nodes["ada"]?.properties["born"] == .int(1815))
        // nil removes a property.
        _ = b.setNodeProperty(kg, id: "ada", key: "title", nil, actor: u)
        try sync(&a, &b)
        #expect(a.graph(kg).nodes["ada"]?.properties["title"] == nil)
    }

    /// Rule 4: properties survive a remove and reappear with the re-add.
    @Test func propertiesSurviveRemoveAndReadd() throws {
        var (a, b) = try base()
        _ = a.setNodeProperty(kg, id: "ada", key: "born", .int(1815), actor: u)
        _ = a.removeNode(kg, id: "ada", actor: u)
        try sync(&a, &b)
        #expect(!b.graph(kg).nodeExists("ada"))
        _ = b.addNode(kg, id: "ada", type: "Person", label: "Ada", actor: u)
        #expect(b.graph(kg).nodes["ada"]?.properties["born"] == .int(1815))
    }

    /// Rule 5: concurrent adds of one edge id with different endpoints: the highest stamp's
    /// endpoints and type win.
    @Test func concurrentEdgeAddsWithDifferentEndpoints() throws {
        var (a, b) = try base()
        _ = a.addNode(kg, id: "bab", type: "Person", label: "Babbage", actor: u)
        try sync(&a, &b)
        _ = a.addEdge(kg, id: "e9", source: "ada", target: "bab", type: "knows", actor: u)
        _ = b.addEdge(kg, id: "e9", source: "bab", target: "ada", type: "mentors", actor: u)
        try sync(&a, &b)
        #expect(a.graph(kg).edges["e9"]?.type.value == .string("mentors"))
        #expect(a.graph(kg).state == b.graph(kg).state)
    }

    @Test func fieldTypes() throws {
        var a = Document(replica: "a"), b = Document(replica: "b")
        _ = a.setRegister(["title"], .string("A"), actor: u)
        _ = b.setRegister(["title"], .string("B"), actor: u)
        _ = a.setMap(["meta"], "k", .int(1), actor: u)
        _ = b.deleteMap(["meta"], "k", actor: u)
        _ = a.addToSet(["tags"], .string("x"), actor: u)
        try sync(&a, &b)
        _ = a.removeFromSet(["tags"], .string("x"), actor: u)
        _ = b.addToSet(["tags"], .string("x"), actor: u)     // concurrent re-add wins
        _ = a.addToCounter(["votes"], 5, actor: u)
        _ = b.addToCounter(["votes"], -2, actor: u)
        try sync(&a, &b)
        #expect(a.register(["title"]) == .string("B"))
        #expect(a.map(["meta"]) == [:])             // same Lamport: "b"'s delete wins
        #expect(a.set(["tags"]) == [.string("x")])
        #expect(a.counter(["votes"]) == 3)
        #expect(a.state == b.state)
    }
}
