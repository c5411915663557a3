// TEMPORARY until DefinitionValidator lands from its branch; removed at merge.
public enum DefinitionValidator {
    public static func predecessors(in definition: WorkflowDefinition) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for node in definition.nodes { for s in RunMachine.unique(node.successors) { result[s, default: []].append(node.id) } }
        return result
    }
    public static func entry(of definition: WorkflowDefinition) -> String? {
        let p = predecessors(in: definition)
        let entries = definition.nodes.filter { p[$0.id] == nil }
        return entries.count == 1 ? entries[0].id : nil
    }
}
