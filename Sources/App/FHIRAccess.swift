import Auth
import BreakGlass
import Policy
import Server
import Store
import Support

/// Access decisions for FHIR requests: the facts the policy needs (care relationship,
/// compartments) gathered from the stores, and denials turned into uniform responses.
///
/// A denial must not tell the caller whether the patient or resource exists, so the 403 text
/// depends only on the caller's role and whether break-glass could help, never on the record.
struct FHIRAccess {
    let session: RecordsSession
    let caller: Caller
    let now: Int64
    /// The break-glass grant the request named with X-Break-Glass, if it exists.
    let namedGrant: Grant?
    /// What the policy needs of `namedGrant`.
    var grant: GrantEvidence? { namedGrant?.evidence }

    init(session: RecordsSession, caller: Caller, request: Request, now: Int64) throws {
        self.session = session
        self.caller = caller
        self.now = now
        guard request.headers.count(of: "X-Break-Glass") <= 1 else {
            throw FHIRError.invalid("X-Break-Glass may appear once: a request names at most one grant.")
        }
        if let named = request.headers["X-Break-Glass"] {
            guard GrantStore.isWellFormedID(named) else {
                throw FHIRError.invalid("X-Break-Glass must carry the id of a break-glass grant (bg_…).")
            }
            namedGrant = try session.grants.grant(named)
        } else {
            namedGrant = nil
        }
    }

    /// A clinician's care relationship: their Practitioner took part in an Encounter of the
    /// patient, or an explicit assignment exists. Other roles have none.
    func hasCareRelationship(_ account: Account, patientID: String) throws -> Bool {
        guard account.role == .clinician else { return false }
        if let practitioner = account.practitionerID,
            try session.records.hasEncounterParticipation(practitionerID: practitioner, patientID: patientID)
        {
            return true
        }
        return try session.identities.hasCareAssignment(account.username, patientID: patientID)
    }

    /// The patients whose records a clinician may search: all their care relationships.
    func visiblePatients(_ account: Account) throws -> [String] {
        var ids = Set(try session.identities.assignedPatients(account.username))
        if let practitioner = account.practitionerID {
            ids.formUnion(try session.records.patientsForPractitioner(practitioner))
        }
        return ids.sorted()
    }

    /// The patients whose compartments this request may draw on: the effective user's care
    /// relationships and the patient of a named break-glass grant. Used to keep resources
    /// shared with other patients out of searches.
    func allowedPatients(for decision: Decision) throws -> [String] {
        var ids = try visiblePatients(caller.effectiveAccount)
        if let grant, decision.grantID == grant.id { ids.append(grant.patientID) }
        return ids
    }

    /// Decides `action` for one patient compartment (or none), with the caller's relationship.
    func decide(_ action: Action, patientID: String?) throws -> Decision {
        var relationship = false
        if let patientID, !patientID.isEmpty {
            relationship = try hasCareRelationship(caller.effectiveAccount, patientID: patientID)
        }
        return AccessPolicy.decide(
            caller.accessRequest(action, patientID: patientID, relationship: relationship, grant: grant, now: now))
    }

    /// Decides for every compartment a resource belongs to; all must allow.
    func decide(_ action: Action, patients: [String]) throws -> Decision {
        guard !patients.isEmpty else { return try decide(action, patientID: nil) }
        var last: Decision?
        for patient in patients {
            let decision = try decide(action, patientID: patient)
            guard decision.allowed else { return decision }
            last = decision
        }
        return last!
    }

    /// The client-facing refusal for a denied decision.
    static func refusal(_ decision: Decision) -> FHIRError {
        if decision.status == 400 {
            return FHIRError(
                status: 400, issueCode: "invalid",
                detail: decision.rule == PolicyRule.denyOnBehalfOfNotAllowed.rawValue
                    ? "X-On-Behalf-Of is accepted from ehr-system accounts only."
                    : "An ehr-system must name the end user it acts for in X-On-Behalf-Of.")
        }
        if decision.breakGlassAvailable {
            return FHIRError(status: 403, issueCode: "forbidden", detail: breakGlassHint)
        }
        return FHIRError(status: 403, issueCode: "forbidden", detail: "Your role does not permit this access.")
    }

    /// What a clinician without a care relationship reads in the 403.
    static let breakGlassHint =
        "You have no care relationship with this patient. In an emergency, break-glass access is "
        + "available: POST /break-glass with {\"patient\", \"reason\", \"justification\", \"totp\", "
        + "\"acknowledge\": true}, then repeat this request with the header X-Break-Glass: <grant id>. "
        + "Break-glass access is recorded, alerted to security and compliance, and reviewed."
}
