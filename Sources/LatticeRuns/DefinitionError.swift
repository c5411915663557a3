/// One problem of a workflow definition, found by `DefinitionValidator`.
public struct DefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem; `rawValue` is the code clients see.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The text is not JSON (found by the codec, `WorkflowDefinition(json:)`).
        public static let badJSON = Code(rawValue: "bad_json")
        /// The text is over `DefinitionLimits.maxBytes` (found by the codec).
        public static let tooLarge = Code(rawValue: "too_large")
        /// A node kind that does not exist (found by the codec).
        public static let unknownKind = Code(rawValue: "unknown_kind")
        /// The definition has no nodes.
        public static let empty = Code(rawValue: "empty")
        /// More nodes than `DefinitionLimits.maxNodes`.
        public static let tooManyNodes = Code(rawValue: "too_many_nodes")
        /// The definition's name is empty or longer than 200 characters.
        public static let badName = Code(rawValue: "bad_name")
        /// A node id is empty, longer than 100 characters, or has characters outside [A-Za-z0-9_.-].
        public static let badID = Code(rawValue: "bad_id")
        /// Two nodes share an id.
        public static let duplicateID = Code(rawValue: "duplicate_id")
        /// An edge names a node that does not exist.
        public static let unknownTarget = Code(rawValue: "unknown_target")
        /// An edge leads from a node to itself.
        public static let selfTarget = Code(rawValue: "self_target")
        /// Every node has a predecessor, so none can start a run.
        public static let noEntry = Code(rawValue: "no_entry")
        /// More than one node has no predecessor.
        public static let severalEntries = Code(rawValue: "several_entries")
        /// The edges form a cycle.
        public static let cycle = Code(rawValue: "cycle")
        /// A retry, backoff, timeout, delay or visit limit is out of range.
        public static let badLimit = Code(rawValue: "bad_limit")
        /// A `$ref` is malformed, or reads the output of a node that cannot have run before.
        public static let badReference = Code(rawValue: "bad_reference")
        /// A node field has a value it may not have (capability, prompt, next of a condition).
        public static let badField = Code(rawValue: "bad_field")
        /// A trigger is malformed (kind, period, inputs) or there are too many.
        public static let badTrigger = Code(rawValue: "bad_trigger")

        /// Every code (docs/runs.md lists them all; tested).
        public static let all: [Code] = [
            .badJSON, .tooLarge, .unknownKind, .empty, .tooManyNodes, .badName, .badID, .duplicateID, .unknownTarget,
            .selfTarget, .noEntry, .severalEntries, .cycle, .badLimit, .badReference, .badField, .badTrigger,
        ]
    }

    public var code: Code
    /// The id of the node concerned, when there is one.
    public var node: String?
    /// Where in the definition's JSON, e.g. `nodes[2].next[0]`, `nodes`, `maxVisits`.
    public var path: String
    /// A sentence naming the node and what is wrong.
    public var message: String

    public init(code: Code, node: String? = nil, path: String, message: String) {
        self.code = code
        self.node = node
        self.path = path
        self.message = message
    }

    public var description: String { "\(code.rawValue) at \(path): \(message)" }
}

/// Size limits of definitions.
public struct DefinitionLimits: Sendable, Equatable {
    /// The most nodes a definition may have.
    public var maxNodes: Int
    /// The most bytes of a definition's JSON (checked by the JSON codec, not the validator).
    public var maxBytes: Int

    public init(maxNodes: Int = 500, maxBytes: Int = 262_144) {
        self.maxNodes = maxNodes
        self.maxBytes = maxBytes
    }

    public static let `default` = DefinitionLimits()
}
