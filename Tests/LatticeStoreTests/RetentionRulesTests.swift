import LatticeStore
import Testing

@Suite struct RetentionRulesTests {
    @Test func kindsTakeTheirRuleElseAllElseStandard() throws {
        let none = try RetentionRules(parsing: [])
        #expect(none.retention(for: "run/r_1") == .standard)
        let rules = try RetentionRules(parsing: ["all=none/90d", "run=1000/30d", "channel=10/none"])
        #expect(rules.retention(for: "run/r_1") == StreamRetention(maxEvents: 1000, maxAge: .seconds(30 * 86400)))
        #expect(rules.retention(for: "channel/ws/general") == StreamRetention(maxEvents: 10, maxAge: nil))
        #expect(rules.retention(for: "doc/d_1") == StreamRetention(maxEvents: nil, maxAge: .seconds(90 * 86400)))
        #expect(rules.retention(for: "workspace/ws") == StreamRetention(maxEvents: nil, maxAge: .seconds(90 * 86400)))
    }

    @Test func laterRulesWinAndAllResetsTheKinds() throws {
        let rules = try RetentionRules(parsing: ["run=5/1h", "run=7/2h", "all=3/1d"])
        #expect(rules.retention(for: "run/x") == StreamRetention(maxEvents: 3, maxAge: .seconds(86400)))
        let units = try RetentionRules(parsing: ["doc=1/45s", "graph=2/3m", "workspace=none/none"])
        #expect(units.retention(for: "doc/x").maxAge == .seconds(45))
        #expect(units.retention(for: "graph/x").maxAge == .seconds(180))
        #expect(units.retention(for: "workspace/x") == StreamRetention(maxEvents: nil, maxAge: nil))
    }

    @Test(arguments: ["run", "run=5", "run=5/", "runs=5/1d", "run=0/1d", "run=-1/1d", "run=5/10", "run=5/1w",
                      "run=5/0d", "run=x/1d", "=5/1d", "run=5/99999999999999999d"])
    func malformedRulesAreRefusedWithTheRule(_ spec: String) {
        #expect(throws: RetentionRuleError.self) { try RetentionRules(parsing: [spec]) }
        do { _ = try RetentionRules(parsing: [spec]) } catch { #expect(error.description.contains("'\(spec)'")) }
    }
}
