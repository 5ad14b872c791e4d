import Policy
import Testing

/// The accounts the decision matrix uses. Usernames are fixed so that expected decisions can
/// name them literally.
enum Users {
    static let clinician = Principal(username: "dr.ada", role: .clinician, practitionerID: "pr-1")
    static let registrar = Principal(username: "reg.rui", role: .registrar)
    static let compliance = Principal(username: "comp.cai", role: .compliance)
    static let securityAdmin = Principal(username: "sec.sam", role: .securityAdmin)
    static let ehr = Principal(username: "ehr.epic", role: .ehrSystem)
    static let otherEHR = Principal(username: "ehr.other", role: .ehrSystem)
}

/// Who is asking: the five roles in their own name, an ehr-system on behalf of each kind of
/// named user, and a clinician who sends `X-On-Behalf-Of` although only ehr-systems may.
enum Subject: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case clinician, registrar, compliance, securityAdmin, ehrSystem
    case ehrForClinician, ehrForRegistrar, ehrForCompliance, ehrForSecurityAdmin
    case ehrForUnresolved, ehrForSystem
    case clinicianSendingOnBehalfOf

    var testDescription: String { rawValue }

    /// The authenticated caller, the resolved on-behalf-of user and whether the header came.
    var identity: (caller: Principal, onBehalfOf: Principal?, header: Bool) {
        switch self {
        case .clinician: (Users.clinician, nil, false)
        case .registrar: (Users.registrar, nil, false)
        case .compliance: (Users.compliance, nil, false)
        case .securityAdmin: (Users.securityAdmin, nil, false)
        case .ehrSystem: (Users.ehr, nil, false)
        case .ehrForClinician: (Users.ehr, Users.clinician, true)
        case .ehrForRegistrar: (Users.ehr, Users.registrar, true)
        case .ehrForCompliance: (Users.ehr, Users.compliance, true)
        case .ehrForSecurityAdmin: (Users.ehr, Users.securityAdmin, true)
        case .ehrForUnresolved: (Users.ehr, nil, true)
        case .ehrForSystem: (Users.ehr, Users.otherEHR, true)
        case .clinicianSendingOnBehalfOf: (Users.clinician, Users.registrar, true)
        }
    }
}

/// One kind of request: an action and the patient compartment the caller would compute.
enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case readPatient, readObservation, readObservationNoPatient, readPractitioner
    case readUnknownType, searchPatient, searchPatientAll, searchObservation
    case searchObservationAll, searchOrganization, everything
    case importBundle, readCapabilities, activateBreakGlass, listOwnGrants
    case endClinicianGrant, endOtherGrant, listReviews
    case reviewComplianceGrant, reviewClinicianGrant
    case queryAudit, readCheckpoints, verifyAudit, exportAudit, readDisclosures
    case manageUsers, manageWebhooks, viewDeadLetters

    var testDescription: String { rawValue }

    var action: Action {
        switch self {
        case .readPatient: .readResource(type: "Patient")
        case .readObservation, .readObservationNoPatient: .readResource(type: "Observation")
        case .readPractitioner: .readResource(type: "Practitioner")
        case .readUnknownType: .readResource(type: "Starship")
        case .searchPatient, .searchPatientAll: .searchResources(type: "Patient")
        case .searchObservation, .searchObservationAll: .searchResources(type: "Observation")
        case .searchOrganization: .searchResources(type: "Organization")
        case .everything: .patientEverything
        case .importBundle: .importBundle
        case .readCapabilities: .readCapabilities
        case .activateBreakGlass: .activateBreakGlass
        case .listOwnGrants: .listOwnGrants
        case .endClinicianGrant: .endGrant(holder: "dr.ada")
        case .endOtherGrant: .endGrant(holder: "dr.bea")
        case .listReviews: .listReviews
        case .reviewComplianceGrant: .reviewGrant(holder: "comp.cai")
        case .reviewClinicianGrant: .reviewGrant(holder: "dr.ada")
        case .queryAudit: .queryAudit
        case .readCheckpoints: .readCheckpoints
        case .verifyAudit: .verifyAudit
        case .exportAudit: .exportAudit
        case .readDisclosures: .readDisclosures
        case .manageUsers: .manageUsers
        case .manageWebhooks: .manageWebhooks
        case .viewDeadLetters: .viewDeadLetters
        }
    }

    /// The patient compartment: p1 for patient-scoped requests, nil for directory data and
    /// searches across patients, and p1 for break-glass activation (the body's patient).
    var patientID: String? {
        switch self {
        case .readObservationNoPatient, .readPractitioner, .searchPatientAll,
            .searchObservationAll, .searchOrganization, .importBundle, .readCapabilities,
            .listOwnGrants, .endClinicianGrant, .endOtherGrant, .listReviews,
            .reviewComplianceGrant, .reviewClinicianGrant, .queryAudit, .readCheckpoints, .verifyAudit,
            .exportAudit, .readDisclosures, .manageUsers, .manageWebhooks, .viewDeadLetters:
            nil
        case .readPatient, .readObservation, .readUnknownType, .searchPatient,
            .searchObservation, .everything, .activateBreakGlass:
            "p1"
        }
    }
}

/// The grant named by `X-Break-Glass`, relative to dr.ada reading patient p1 at `Clock.now`.
enum GrantVariant: String, CaseIterable, Sendable {
    case valid, otherPatient, otherHolder, expired, revoked, none

    var evidence: GrantEvidence? {
        let later = Clock.now + 600
        switch self {
        case .valid: return grant("g-valid", "dr.ada", "p1", later, revoked: false)
        case .otherPatient: return grant("g-p2", "dr.ada", "p2", later, revoked: false)
        case .otherHolder: return grant("g-bea", "dr.bea", "p1", later, revoked: false)
        case .expired: return grant("g-old", "dr.ada", "p1", Clock.now, revoked: false)
        case .revoked: return grant("g-ended", "dr.ada", "p1", later, revoked: true)
        case .none: return nil
        }
    }

    private func grant(
        _ id: String, _ holder: String, _ patient: String, _ end: Int64, revoked: Bool
    ) -> GrantEvidence {
        GrantEvidence(id: id, holder: holder, patientID: patient, expiresAt: end, revoked: revoked)
    }
}

enum Clock {
    static let now: Int64 = 1_750_000_000
}

/// One cell of the relationship × grant dimension.
struct Cell: Hashable, Sendable, CustomStringConvertible {
    var related: Bool
    var grant: GrantVariant

    init(_ related: Bool, _ grant: GrantVariant) {
        self.related = related
        self.grant = grant
    }

    static let all: [Cell] = [true, false].flatMap { related in
        GrantVariant.allCases.map { Cell(related, $0) }
    }

    var description: String { "related=\(related) grant=\(grant.rawValue)" }
}

/// Builds the request a router would hand the policy for one row of the matrix.
func makeRequest(_ subject: Subject, _ kind: Kind, _ cell: Cell) -> AccessRequest {
    let who = subject.identity
    return AccessRequest(
        caller: who.caller, onBehalfOf: who.onBehalfOf, onBehalfOfHeaderPresent: who.header,
        action: kind.action, patientID: kind.patientID, hasCareRelationship: cell.related,
        grant: cell.grant.evidence, now: Clock.now)
}
