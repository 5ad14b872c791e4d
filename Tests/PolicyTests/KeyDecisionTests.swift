import Policy
import Testing

/// Whole decisions for the cases that matter most, each written out field by field.
@Suite("Access policy key decisions")
struct KeyDecisionTests {
    static let now: Int64 = 1_750_000_000
    static let ada = Principal(username: "dr.ada", role: .clinician, practitionerID: "pr-1")
    static let registrar = Principal(username: "reg.rui", role: .registrar)
    static let compliance = Principal(username: "comp.cai", role: .compliance)
    static let admin = Principal(username: "sec.sam", role: .securityAdmin)
    static let ehr = Principal(username: "ehr.epic", role: .ehrSystem)

    static func grant(
        holder: String = "dr.ada", patient: String = "p1", expiresAt: Int64 = now + 600,
        revoked: Bool = false
    ) -> GrantEvidence {
        GrantEvidence(
            id: "g1", holder: holder, patientID: patient, expiresAt: expiresAt, revoked: revoked)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var request: AccessRequest
        var expected: Decision
        var testDescription: String { name }
    }

    static let observation = Action.readResource(type: "Observation")

    static let cases: [Case] = [
        Case(
            name: "treatment under a care relationship",
            request: AccessRequest(
                caller: ada, action: observation, patientID: "p1", hasCareRelationship: true,
                now: now),
            expected: Decision(
                allowed: true, rule: "clinician.care_relationship", purpose: .treatment,
                effectiveUser: "dr.ada", status: 200)),
        Case(
            name: "break-glass read carries the grant id",
            request: AccessRequest(
                caller: ada, action: observation, patientID: "p1", grant: grant(), now: now),
            expected: Decision(
                allowed: true, rule: "clinician.break_glass", purpose: .breakGlass,
                effectiveUser: "dr.ada", grantID: "g1", status: 200)),
        Case(
            name: "a grant one second from its end still applies",
            request: AccessRequest(
                caller: ada, action: .patientEverything, patientID: "p1",
                grant: grant(expiresAt: now + 1), now: now),
            expected: Decision(
                allowed: true, rule: "clinician.break_glass", purpose: .breakGlass,
                effectiveUser: "dr.ada", grantID: "g1", status: 200)),
        Case(
            name: "a grant at its end no longer applies",
            request: AccessRequest(
                caller: ada, action: .patientEverything, patientID: "p1",
                grant: grant(expiresAt: now), now: now),
            expected: Decision(
                allowed: false, rule: "deny.grant_expired", purpose: nil,
                effectiveUser: "dr.ada", breakGlassAvailable: true, status: 403)),
        Case(
            name: "no relationship and no grant: 403 offering break-glass",
            request: AccessRequest(caller: ada, action: observation, patientID: "p1", now: now),
            expected: Decision(
                allowed: false, rule: "deny.no_relationship", purpose: nil,
                effectiveUser: "dr.ada", breakGlassAvailable: true, status: 403)),
        Case(
            name: "relationship wins over a valid grant: treatment, no grant id",
            request: AccessRequest(
                caller: ada, action: observation, patientID: "p1", hasCareRelationship: true,
                grant: grant(), now: now),
            expected: Decision(
                allowed: true, rule: "clinician.care_relationship", purpose: .treatment,
                effectiveUser: "dr.ada", status: 200)),
        Case(
            name: "proxied break-glass read names the user, the system and the grant",
            request: AccessRequest(
                caller: ehr, onBehalfOf: ada, onBehalfOfHeaderPresent: true,
                action: observation, patientID: "p1", grant: grant(), now: now),
            expected: Decision(
                allowed: true, rule: "clinician.break_glass", purpose: .breakGlass,
                effectiveUser: "dr.ada", proxiedBy: "ehr.epic", grantID: "g1", status: 200)),
        Case(
            name: "a grant held by the proxying system does not serve its user",
            request: AccessRequest(
                caller: ehr, onBehalfOf: ada, onBehalfOfHeaderPresent: true,
                action: observation, patientID: "p1", grant: grant(holder: "ehr.epic"), now: now),
            expected: Decision(
                allowed: false, rule: "deny.grant_not_holder", purpose: nil,
                effectiveUser: "dr.ada", proxiedBy: "ehr.epic", breakGlassAvailable: true,
                status: 403)),
        Case(
            name: "proxied break-glass activation is the clinician's",
            request: AccessRequest(
                caller: ehr, onBehalfOf: ada, onBehalfOfHeaderPresent: true,
                action: .activateBreakGlass, patientID: "p1", now: now),
            expected: Decision(
                allowed: true, rule: "clinician.activate_break_glass", purpose: .breakGlass,
                effectiveUser: "dr.ada", proxiedBy: "ehr.epic", status: 200)),
        Case(
            name: "ehr-system reading PHI in its own name: 400",
            request: AccessRequest(caller: ehr, action: observation, patientID: "p1", now: now),
            expected: Decision(
                allowed: false, rule: "deny.on_behalf_of_required", purpose: nil,
                effectiveUser: "ehr.epic", status: 400)),
        Case(
            name: "a clinician sending X-On-Behalf-Of that resolves to nobody: 400",
            request: AccessRequest(
                caller: ada, onBehalfOfHeaderPresent: true, action: observation,
                patientID: "p1", hasCareRelationship: true, now: now),
            expected: Decision(
                allowed: false, rule: "deny.on_behalf_of_not_allowed", purpose: nil,
                effectiveUser: "dr.ada", status: 400)),
        Case(
            name: "a resolved on-behalf-of user counts as the header even if the flag is unset",
            request: AccessRequest(
                caller: registrar, onBehalfOf: ada, action: .readCapabilities, now: now),
            expected: Decision(
                allowed: false, rule: "deny.on_behalf_of_not_allowed", purpose: nil,
                effectiveUser: "reg.rui", status: 400)),
        Case(
            name: "ehr-system with a resolved user but the flag unset still proxies",
            request: AccessRequest(
                caller: ehr, onBehalfOf: ada, action: observation, patientID: "p1",
                hasCareRelationship: true, now: now),
            expected: Decision(
                allowed: true, rule: "clinician.care_relationship", purpose: .treatment,
                effectiveUser: "dr.ada", proxiedBy: "ehr.epic", status: 200)),
        Case(
            name: "unresolved on-behalf-of user: 403 in the system's name",
            request: AccessRequest(
                caller: ehr, onBehalfOfHeaderPresent: true, action: .readCapabilities, now: now),
            expected: Decision(
                allowed: false, rule: "deny.on_behalf_of_unresolved", purpose: nil,
                effectiveUser: "ehr.epic", status: 403)),
        Case(
            name: "registrar demographics search across patients",
            request: AccessRequest(
                caller: registrar, action: .searchResources(type: "Patient"), now: now),
            expected: Decision(
                allowed: true, rule: "registrar.demographics", purpose: .operations,
                effectiveUser: "reg.rui", status: 200)),
        Case(
            name: "a registrar's own grant widens nothing and offers nothing",
            request: AccessRequest(
                caller: registrar, action: observation, patientID: "p1",
                grant: grant(holder: "reg.rui"), now: now),
            expected: Decision(
                allowed: false, rule: "deny.registrar_demographics_only", purpose: nil,
                effectiveUser: "reg.rui", status: 403)),
        Case(
            name: "compliance reads no Patient even with a relationship and a grant",
            request: AccessRequest(
                caller: compliance, action: .readResource(type: "Patient"), patientID: "p1",
                hasCareRelationship: true, grant: grant(holder: "comp.cai"), now: now),
            expected: Decision(
                allowed: false, rule: "deny.no_phi_role", purpose: nil,
                effectiveUser: "comp.cai", status: 403)),
        Case(
            name: "security admin ends another user's grant",
            request: AccessRequest(caller: admin, action: .endGrant(holder: "dr.ada"), now: now),
            expected: Decision(
                allowed: true, rule: "security_admin.end_grant", purpose: .systemAdministration,
                effectiveUser: "sec.sam", status: 200)),
        Case(
            name: "an empty patient id is no patient: unscoped search",
            request: AccessRequest(
                caller: ada, action: .searchResources(type: "Observation"), patientID: "",
                hasCareRelationship: true, now: now),
            expected: Decision(
                allowed: false, rule: "deny.unscoped_search", purpose: nil,
                effectiveUser: "dr.ada", status: 403)),
        Case(
            name: "type names are case-sensitive: lower-case patient is unknown",
            request: AccessRequest(
                caller: ada, action: .readResource(type: "patient"), patientID: "p1",
                hasCareRelationship: true, now: now),
            expected: Decision(
                allowed: false, rule: "deny.unknown_resource_type", purpose: nil,
                effectiveUser: "dr.ada", status: 403)),
    ]

    @Test("key decision", arguments: cases)
    func decision(_ testCase: Case) {
        #expect(AccessPolicy.decide(testCase.request) == testCase.expected)
    }

    /// The policy never learns whether a patient exists, so a denial for an unknown patient id
    /// equals the denial for a known one with the same facts.
    @Test(
        "a missing patient is denied exactly like an existing one",
        arguments: [ada, registrar, compliance, admin, ehr])
    func existenceIsInvisible(caller: Principal) {
        let actions = [Self.observation, .patientEverything, .searchResources(type: "Condition")]
        for action in actions {
            let known = AccessRequest(
                caller: caller, action: action, patientID: "p1", now: Self.now)
            var missing = known
            missing.patientID = "no-such-patient"
            #expect(AccessPolicy.decide(known) == AccessPolicy.decide(missing))
        }
    }
}
