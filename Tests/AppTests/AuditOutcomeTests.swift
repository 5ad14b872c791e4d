import Testing

@testable import App

/// The one rule that turns a request's status into its entry's outcome, and what a refused FHIR
/// request's entry keeps of the type and id it named.
@Suite("Audit outcomes")
struct AuditOutcomeTests {
    @Test(
        "denied only for a refusal by a decision; any other 4xx or 5xx is an error",
        arguments: [
            // An answer is allowed, whatever led to it.
            (200, false, AuditTrail.Outcome.allowed), (201, false, .allowed), (204, false, .allowed),
            (304, false, .allowed), (200, true, .allowed),
            // The policy's refusals, including the malformed-header rules that answer 400, and a
            // credential check's (wrong password or code, a locked factor).
            (403, true, .denied), (400, true, .denied), (401, true, .denied), (429, true, .denied),
            // Bad requests, missing things, conflicts and failures, also after the policy allowed.
            (400, false, .error), (401, false, .error), (403, false, .error), (404, false, .error),
            (409, false, .error), (413, false, .error), (415, false, .error), (500, false, .error),
            (503, false, .error), (503, true, .denied),
        ])
    func rule(status: Int, refused: Bool, outcome: AuditTrail.Outcome) {
        #expect(AuditTrail.Outcome(status: status, refused: refused) == outcome)
    }

    @Test(
        "a refused FHIR request's entry names what was asked for, safely and briefly",
        arguments: [
            (["Foo", "1"], "Foo/1"),
            (["Patient"], "Patient"),
            (["Patient", "bad|id"], "Patient/bad?id"),
            (["Patient", "été"], "Patient/??t??"),
            (["Patient", "a/b"], "Patient/a?b"),
            (["Patient", "<script>\n"], "Patient/?script??"),
            (["Observation", "a.b-C9"], "Observation/a.b-C9"),
            ([String(repeating: "X", count: 300), "1"], String(repeating: "X", count: 128)),
        ])
    func requested(parts: [String], recorded: String) {
        #expect(FHIRRoutes.requested(parts) == recorded)
    }
}
