public import LatticeCRDT

/// References inside node values: an object `{"$ref": "PATH"}` stands for the value at PATH,
/// resolved when the node starts (docs/runs.md, "References").
///
/// PATH is `inputs[.KEY…]` (the run's inputs) or `nodes.ID.output[.KEY…]` (the output of an
/// earlier node). A reference to something absent resolves to null; `Condition.Operator.exists`
/// tells the two apart.
public enum ValueReference {
    public static let key = "$ref"

    /// The path of `value` when it is a reference.
    public static func path(of value: Value) -> String? {
        guard case .object(let object) = value, object.count == 1, case .string(let path)? = object[key] else { return nil }
        return path
    }

    /// Whether `path` has a form this module can resolve (checked by the validator).
    public static func isWellFormed(_ path: String) -> Bool {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.contains(where: \.isEmpty) else { return false }
        if parts.first == "inputs" { return true }
        return parts.count >= 3 && parts[0] == "nodes" && parts[2] == "output"
    }

    /// The node whose output `path` reads, if any.
    public static func node(of path: String) -> String? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "nodes" else { return nil }
        return String(parts[1])
    }

    /// Every reference path inside `value`.
    public static func paths(in value: Value) -> [String] {
        if let path = path(of: value) { return [path] }
        switch value {
        case .array(let items): return items.flatMap(paths(in:))
        case .object(let object): return object.keys.sorted().flatMap { paths(in: object[$0]!) }
        default: return []
        }
    }

    /// Looks `path` up; nil when absent.
    public static func lookup(_ path: String, inputs: Value, outputs: [String: Value]) -> Value? {
        let parts = path.split(separator: ".").map(String.init)
        var current: Value?
        var rest: ArraySlice<String>
        if parts.first == "inputs" {
            current = inputs
            rest = parts.dropFirst()
        } else if parts.count >= 3, parts[0] == "nodes", parts[2] == "output" {
            current = outputs[parts[1]]
            rest = parts.dropFirst(3)
        } else {
            return nil
        }
        for part in rest {
            switch current {
            case .object(let object)?: current = object[part]
            case .array(let items)?:
                guard let index = Int(part), items.indices.contains(index) else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    /// `value` with every reference replaced by what it points at (null when absent).
    public static func resolve(_ value: Value, inputs: Value, outputs: [String: Value]) -> Value {
        if let path = path(of: value) { return lookup(path, inputs: inputs, outputs: outputs) ?? .null }
        switch value {
        case .array(let items): return .array(items.map { resolve($0, inputs: inputs, outputs: outputs) })
        case .object(let object): return .object(object.mapValues { resolve($0, inputs: inputs, outputs: outputs) })
        default: return value
        }
    }
}

extension Condition {
    /// Evaluates the comparison. Values of different types are unequal and never ordered
    /// (an ordering between them is false), so a condition can never fail to evaluate.
    public func evaluate(inputs: Value, outputs: [String: Value]) -> Bool {
        let leftPath = ValueReference.path(of: left)
        let leftValue = ValueReference.resolve(left, inputs: inputs, outputs: outputs)
        let rightValue = ValueReference.resolve(right, inputs: inputs, outputs: outputs)
        switch op {
        case .exists:
            guard let leftPath else { return leftValue != .null }
            return ValueReference.lookup(leftPath, inputs: inputs, outputs: outputs) != nil
        case .truthy: return Self.isTruthy(leftValue)
        case .equal: return Self.equal(leftValue, rightValue)
        case .notEqual: return !Self.equal(leftValue, rightValue)
        case .less: return Self.compare(leftValue, rightValue).map { $0 < 0 } ?? false
        case .lessOrEqual: return Self.compare(leftValue, rightValue).map { $0 <= 0 } ?? false
        case .greater: return Self.compare(leftValue, rightValue).map { $0 > 0 } ?? false
        case .greaterOrEqual: return Self.compare(leftValue, rightValue).map { $0 >= 0 } ?? false
        case .contains:
            switch (leftValue, rightValue) {
            case (.string(let haystack), .string(let needle)): return haystack.contains(needle)
            case (.array(let items), let needle): return items.contains { Self.equal($0, needle) }
            case (.object(let object), .string(let key)): return object[key] != nil
            default: return false
            }
        }
    }

    static func isTruthy(_ value: Value) -> Bool {
        switch value {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        }
    }

    /// Numbers compare by value whether written as integers or not.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a == b
    }

    static func compare(_ a: Value, _ b: Value) -> Int? {
        if let x = number(a), let y = number(b) { return x < y ? -1 : (x == y ? 0 : 1) }
        if case .string(let x) = a, case .string(let y) = b { return x < y ? -1 : (x == y ? 0 : 1) }
        return nil
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
