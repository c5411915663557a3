public import LatticeRuns

/// The workflow definitions the first start puts into the demo workspace, so a new user can
/// start a run at once (docs/runs.md, "Demo definitions"). Each is checked by the validator
/// before it is stored (and by a test).
public enum DemoDefinitions {
    public static let texts: [String] = [
        """
        {"name": "Greet and approve",
         "metadata": {"about": "Emits a greeting, waits a second, then asks a member to approve it."},
         "nodes": [
           {"id": "greet", "kind": "emit", "data": {"greeting": "hello", "to": {"$ref": "inputs.who"}}, "next": ["pause"]},
           {"id": "pause", "kind": "delay", "millis": 1000, "next": ["approve"]},
           {"id": "approve", "kind": "approval", "prompt": "Send this greeting?", "next": ["sent"]},
           {"id": "sent", "kind": "output", "value": {"$ref": "nodes.greet.output"}}
         ]}
        """,
        """
        {"name": "Count words with a bot",
         "metadata": {"about": "A task for a bot worker with the capability 'wc': it gets {text} and answers {words}."},
         "nodes": [
           {"id": "count", "kind": "task", "capability": "wc", "input": {"text": {"$ref": "inputs.text"}},
            "retries": 2, "backoffMs": 500, "timeoutMs": 60000, "next": ["long"]},
           {"id": "long", "kind": "condition", "left": {"$ref": "nodes.count.output.words"}, "op": ">", "right": 100,
            "then": ["review"], "else": ["result"]},
           {"id": "review", "kind": "approval", "prompt": "A long text: keep the count?", "next": ["result"]},
           {"id": "result", "kind": "output", "value": {"$ref": "nodes.count.output"}}
         ]}
        """,
        """
        {"name": "Parallel branches",
         "metadata": {"about": "Two branches run at once and join; the run's output names both."},
         "nodes": [
           {"id": "start", "kind": "emit", "data": {"started": true}, "next": ["left", "right"]},
           {"id": "left", "kind": "delay", "millis": 300, "next": ["join"]},
           {"id": "right", "kind": "emit", "data": {"side": "right"}, "next": ["join"]},
           {"id": "join", "kind": "output", "value": {"right": {"$ref": "nodes.right.output"}, "started": {"$ref": "nodes.start.output.started"}}}
         ]}
        """,
    ]

    /// The definitions, parsed and validated.
    public static func definitions() throws -> [WorkflowDefinition] {
        try texts.map { text in
            let definition = try WorkflowDefinition(json: text)
            let problems = DefinitionValidator.validate(definition)
            guard problems.isEmpty else { throw DefinitionErrors(problems) }
            return definition
        }
    }

    /// Stores them in `workspace` (the first start does this once).
    public static func seed(_ store: any RunStore, workspace: String, author: String, at: Int64) async throws {
        for definition in try definitions() {
            _ = try await store.createDefinition(id: nil, workspace: workspace, definition: definition, author: author, at: at)
        }
    }
}
