import Policy
import Testing

/// The full decision matrix: every subject × every kind of request × care relationship or not
/// × six grant variants, checked against the decisions written down in `Expected`.
@Suite("Access policy decision matrix")
struct DecisionMatrixTests {
    static func expectation(_ subject: Subject, _ kind: Kind) -> Expect? {
        guard let byKind = Expected.table.first(where: { $0.key == subject })?.value else {
            return nil
        }
        return byKind.first { $0.key == kind }?.value
    }

    @Test("each row decides as written", arguments: Subject.allCases, Kind.allCases)
    func row(subject: Subject, kind: Kind) throws {
        let expect = try #require(Self.expectation(subject, kind), "no expectation written")
        let user = Expected.user(subject)
        for cell in Cell.all {
            let outcome = try #require(expect.outcome(for: cell), "no outcome for \(cell)")
            let expected = Decision(
                allowed: outcome.allowed, rule: outcome.rule, purpose: outcome.purpose,
                effectiveUser: user.effective, proxiedBy: user.proxiedBy,
                breakGlassAvailable: outcome.breakGlassAvailable, grantID: outcome.grantID,
                status: outcome.status)
            let actual = AccessPolicy.decide(makeRequest(subject, kind, cell))
            #expect(actual == expected, "\(cell)")
        }
    }

    @Test("the expectation table names every subject and kind exactly once")
    func tableIsComplete() {
        let subjects = Expected.table.map(\.key)
        #expect(subjects.count == Subject.allCases.count)
        #expect(Set(subjects) == Set(Subject.allCases))
        for (subject, byKind) in Expected.table {
            let kinds = byKind.map(\.key)
            #expect(kinds.count == Kind.allCases.count, "\(subject)")
            #expect(Set(kinds) == Set(Kind.allCases), "\(subject)")
        }
    }

    @Test("the per-cell table covers the twelve cells exactly once")
    func cellTableIsComplete() throws {
        guard case .byCell(let cells) = Expected.clinicianPatientData else {
            Issue.record("clinicianPatientData is not written per cell")
            return
        }
        #expect(cells.count == 12)
        #expect(Set(cells.map(\.key)) == Set(Cell.all))
    }

    @Test("the matrix has enough rows and reaches every rule")
    func coverage() {
        var rules: Set<String> = []
        var rows = 0
        for subject in Subject.allCases {
            for kind in Kind.allCases {
                for cell in Cell.all {
                    rules.insert(AccessPolicy.decide(makeRequest(subject, kind, cell)).rule)
                    rows += 1
                }
            }
        }
        #expect(rows == 12 * 28 * 12)
        #expect(rows >= 150)
        #expect(rules == Set(PolicyRule.allCases.map(\.rawValue)))
    }

    @Test("only the malformed-header rules answer 400", arguments: PolicyRule.allCases)
    func malformedRules(rule: PolicyRule) {
        let malformed: Set<String> = [
            "deny.on_behalf_of_not_allowed", "deny.on_behalf_of_required",
        ]
        #expect(rule.isMalformedRequest == malformed.contains(rule.rawValue))
    }
}
