/// Last-writer-wins register ordered by `Stamp` (Lamport timestamp, then replica id).
public struct LWWRegister: Sendable, Hashable {
    public private(set) var value: Value?
    public private(set) var stamp: Stamp?
    public init() {}
    public init(value: Value?, stamp: Stamp?) { self.value = value; self.stamp = stamp }
    /// Applies a write; returns true if it won.
    @discardableResult public mutating func set(_ v: Value?, at s: Stamp) -> Bool {
        if let cur = stamp, !(cur < s) { return false }
        value = v; stamp = s
        return true
    }
}

/// Last-writer-wins map: one LWW register per key; a delete is a write of "absent".
public struct LWWMap: Sendable, Hashable {
    public private(set) var entries: [String: LWWRegister] = [:]
    public init() {}
    public mutating func set(_ key: String, _ v: Value?, at s: Stamp) { entries[key, default: LWWRegister()].set(v, at: s) }
    public subscript(key: String) -> Value? { entries[key]?.value }
    public var visible: [String: Value] {
        var o: [String: Value] = [:]
        for (k, r) in entries { if let v = r.value { o[k] = v } }
        return o
    }
}

/// Add-wins (observed-remove) set: an element is present while some add tag of it has not been
/// observed by a remove. A remove only cancels the adds it observed, so a concurrent add wins.
public struct AWSet: Sendable, Hashable {
    public private(set) var tags: [Value: Set<OpID>] = [:]
    public init() {}
    public mutating func add(_ v: Value, tag: OpID) { tags[v, default: []].insert(tag) }
    public mutating func remove(_ v: Value, observed: [OpID]) {
        guard var t = tags[v] else { return }
        t.subtract(observed)
        tags[v] = t.isEmpty ? nil : t
    }
    public func contains(_ v: Value) -> Bool { !(tags[v]?.isEmpty ?? true) }
    public func observedTags(_ v: Value) -> [OpID] { (tags[v] ?? []).sorted() }
    /// Elements sorted by their JSON text (deterministic).
    public var elements: [Value] { tags.keys.sorted { $0.json.utf8.lexicographicallyPrecedes($1.json.utf8) } }
}

/// Positive-negative counter: per-replica sums of increments and decrements.
public struct PNCounter: Sendable, Hashable {
    public private(set) var p: [String: UInt64] = [:]
    public private(set) var n: [String: UInt64] = [:]
    public init() {}
    public mutating func add(_ delta: Int64, replica: String) {
        if delta >= 0 { p[replica, default: 0] &+= UInt64(delta) } else { n[replica, default: 0] &+= delta.magnitude }
    }
    public var value: Int64 {
        Int64(bitPattern: p.values.reduce(0, &+) &- n.values.reduce(0, &+))
    }
    mutating func load(p: [String: UInt64], n: [String: UInt64]) { self.p = p; self.n = n }
}
