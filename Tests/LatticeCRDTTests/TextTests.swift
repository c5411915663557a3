import LatticeCRDT
import Testing

@Suite struct TextIntentionTests {
    let u = Actor.user("u")
    let p = ["t"]

    func sync(_ a: inout Document, _ b: inout Document) throws {
        for op in b.log { try a.apply(op) }
        for op in a.log { try b.apply(op) }
    }

    @Test func concurrentTypingAtSamePositionDoesNotInterleave() throws {
        for (na, nb) in [("a", "b"), ("b", "a"), ("zed", "amy")] {
            var a = Document(replica: na), b = Document(replica: nb)
            _ = try a.insertText(p, at: 0, "[]", actor: u)
            try sync(&a, &b)
            // Both type character by character at the same place.
            for (i, c) in "hello".enumerated() { _ = try a.insertText(p, at: 1 + i, String(c), actor: u) }
            for (i, c) in "WORLD".enumerated() { _ = try b.insertText(p, at: 1 + i, String(c), actor: u) }
            try sync(&a, &b)
            #expect(a.text(p) == b.text(p))
            #expect(["[helloWORLD]", "[WORLDhello]"].contains(a.text(p)))
        }
    }

    @Test func concurrentTypingBackwardsDoesNotInterleave() throws {
        var a = Document(replica: "a"), b = Document(replica: "b")
        // Each types by inserting at the same index repeatedly (prepending).
        for c in "abc" { _ = try a.insertText(p, at: 0, String(c), actor: u) }
        for c in "xyz" { _ = try b.insertText(p, at: 0, String(c), actor: u) }
        try sync(&a, &b)
        #expect(a.text(p) == b.text(p))
        #expect(["cbazyx", "zyxcba"].contains(a.text(p)))
    }

    @Test func lowerReplicaIdGoesFirstForSameOrigins() throws {
        var a = Document(replica: "a"), b = Document(replica: "b")
        _ = try b.insertText(p, at: 0, "B", actor: u)
        _ = try a.insertText(p, at: 0, "A", actor: u)
        try sync(&a, &b)
        #expect(a.text(p) == "AB")
        #expect(b.text(p) == "AB")
    }

    /// Documented rule: a delete removes exactly the characters it saw; text inserted
    /// concurrently inside the deleted range survives, at its place.
    @Test func deleteOfRangeConcurrentWithInsertInsideIt() throws {
        var a = Document(replica: "a"), b = Document(replica: "b")
        _ = try a.insertText(p, at: 0, "hello world", actor: u)
        try sync(&a, &b)
        _ = try a.deleteText(p, at: 3, count: 5, actor: u)      // "lo wo"
        _ = try b.insertText(p, at: 5, "XX", actor: u)          // between "hello" and " world"
        try sync(&a, &b)
        #expect(a.text(p) == "helXXrld")
        #expect(b.text(p) == "helXXrld")
    }

    @Test func concurrentDeletesOfOverlappingRanges() throws {
        var a = Document(replica: "a"), b = Document(replica: "b")
        _ = try a.insertText(p, at: 0, "0123456789", actor: u)
        try sync(&a, &b)
        _ = try a.deleteText(p, at: 2, count: 4, actor: u)
        _ = try b.deleteText(p, at: 4, count: 4, actor: u)
        try sync(&a, &b)
        #expect(a.text(p) == "0189")
        #expect(b.text(p) == "0189")
    }

    @Test func anchorsStayAttachedUnderConcurrentEdits() throws {
        var a = Document(replica: "a"), b = Document(replica: "b")
        _ = try a.insertText(p, at: 0, "hello world", actor: u)
        try sync(&a, &b)
        let cursor = try b.anchor(p, at: 6, side: .before)    // before "w"
        let selEnd = try b.anchor(p, at: 5, side: .after)     // after "o" of hello
        #expect(b.position(p, of: cursor) == 6)
        _ = try a.insertText(p, at: 0, ">> ", actor: u)
        _ = try a.deleteText(p, at: 3 + 1, count: 2, actor: u) // "el"
        try sync(&a, &b)
        #expect(b.text(p) == ">> hlo world")
        #expect(b.position(p, of: cursor) == 7)
        #expect(b.position(p, of: selEnd) == 6)
        // Anchored element deleted: the anchor collapses to where it was.
        _ = try a.deleteText(p, at: 7, count: 1, actor: u)      // "w"
        try sync(&a, &b)
        #expect(b.position(p, of: cursor) == 7)
        #expect(try b.anchor(p, at: 0, side: .after).element == nil)
        #expect(b.position(p, of: TextAnchor(element: nil, side: .before)) == b.textLength(p))
    }

    @Test func nonASCIIPositionsAreUnicodeScalars() throws {
        var d = Document(replica: "a")
        _ = try d.insertText(p, at: 0, "a😀b", actor: u)
        _ = try d.insertText(p, at: 2, "é", actor: u)
        #expect(d.text(p) == "a😀éb")
        #expect(d.textLength(p) == 4)
        _ = try d.deleteText(p, at: 1, count: 1, actor: u)
        #expect(d.text(p) == "aéb")
    }

    @Test func textSnapshotRoundTrip() throws {
        var t = TextCRDT()
        let a = t.agent("a")
        var seq: UInt32 = 0
        var rng = SplitMix(seed: 7)
        for _ in 0..<3000 {
            if t.count > 0 && Int.random(in: 0..<3, using: &rng) == 0 {
                let p = Int.random(in: 0..<t.count, using: &rng)
                _ = t.localDelete(at: p, count: min(3, t.count - p))
            } else {
                _ = t.localInsert(at: Int.random(in: 0...t.count, using: &rng), "xé😀", agent: a, seq: seq)
                seq += 3
            }
        }
        let snap = t.encodeSnapshot()
        let u = try TextCRDT.decodeSnapshot(snap)
        #expect(u.string == t.string)
        #expect(u.encodeSnapshot() == snap)
        #expect(throws: DecodeError.self) { try TextCRDT.decodeSnapshot(Array(snap.dropLast(3))) }
    }
}
