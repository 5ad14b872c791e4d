/// The per-role rules of step 2 (see the table on ``AccessPolicy``). Each function answers for
/// one role and falls through to `deny.default` for any action it does not name.
extension AccessPolicy {
    /// Which FHIR interaction an action is, for the actions that touch FHIR data.
    enum FHIRInteraction {
        case read
        case search
        case everything
    }

    /// The interaction and resource type of a FHIR data action; nil for every other action.
    static func fhirAccess(_ action: Action) -> (FHIRInteraction, String)? {
        switch action {
        case .readResource(let type): (.read, type)
        case .searchResources(let type): (.search, type)
        case .patientEverything: (.everything, "Patient")
        default: nil
        }
    }

    static func clinician(_ user: Principal, _ request: AccessRequest) -> Decision {
        let name = user.username
        if let (interaction, type) = fhirAccess(request.action) {
            return clinicianFHIR(user, request, interaction, type)
        }
        switch request.action {
        case .activateBreakGlass:
            return .allow(.clinicianActivateBreakGlass, .breakGlass, user: name)
        case .listOwnGrants:
            return .allow(.clinicianListOwnGrants, .operations, user: name)
        case .endGrant(let holder) where holder == name:
            return .allow(.clinicianEndOwnGrant, .operations, user: name)
        case .endGrant:
            return .deny(.denyNotGrantHolder, user: name)
        default:
            return .deny(.denyDefault, user: name)
        }
    }

    /// Patient data for a clinician: care relationship first, then the named grant.
    static func clinicianFHIR(
        _ user: Principal, _ request: AccessRequest, _ interaction: FHIRInteraction,
        _ type: String
    ) -> Decision {
        let name = user.username
        switch ResourceClass.of(type) {
        case .unsupported:
            return .deny(.denyUnknownResourceType, user: name)
        case .directoryData:
            return .allow(.directoryRead, .operations, user: name)
        case .patientData:
            break
        }

        guard let patient = request.scopedPatient else {
            if interaction == .search && type == "Patient" {
                return .allow(.clinicianPatientSearchFiltered, .treatment, user: name)
            }
            let rule: PolicyRule =
                interaction == .search ? .denyUnscopedSearch : .denyNoPatientCompartment
            return .deny(rule, user: name)
        }
        if request.hasCareRelationship {
            return .allow(.clinicianCareRelationship, .treatment, user: name)
        }

        guard let grant = request.grant else {
            return .deny(.denyNoRelationship, user: name, breakGlassAvailable: true)
        }
        let refusal: PolicyRule
        switch grant.check(patientID: patient, holder: name, now: request.now) {
        case .valid:
            return .allow(.clinicianBreakGlass, .breakGlass, user: name, grantID: grant.id)
        case .notHolder: refusal = .denyGrantNotHolder
        case .wrongPatient: refusal = .denyGrantWrongPatient
        case .revoked: refusal = .denyGrantRevoked
        case .expired: refusal = .denyGrantExpired
        }
        return .deny(refusal, user: name, breakGlassAvailable: true)
    }

    static func registrar(_ user: Principal, _ request: AccessRequest) -> Decision {
        let name = user.username
        guard let (interaction, type) = fhirAccess(request.action) else {
            return denyRemaining(request.action, user: name)
        }
        switch ResourceClass.of(type) {
        case .unsupported:
            return .deny(.denyUnknownResourceType, user: name)
        case .directoryData:
            return .allow(.directoryRead, .operations, user: name)
        case .patientData where type == "Patient" && interaction != .everything:
            return .allow(.registrarDemographics, .operations, user: name)
        case .patientData:
            return .deny(.denyRegistrarDemographicsOnly, user: name)
        }
    }

    static func compliance(_ user: Principal, _ request: AccessRequest) -> Decision {
        let name = user.username
        if fhirAccess(request.action) != nil { return .deny(.denyNoPHIRole, user: name) }
        switch request.action {
        // Checkpoints are part of the log a compliance account may query, so the same rule allows them.
        case .queryAudit, .readCheckpoints: return .allow(.complianceAuditQuery, .audit, user: name)
        case .verifyAudit: return .allow(.complianceAuditVerify, .audit, user: name)
        case .exportAudit: return .allow(.complianceAuditExport, .audit, user: name)
        case .readDisclosures: return .allow(.complianceDisclosures, .audit, user: name)
        case .listReviews: return .allow(.complianceReviewList, .audit, user: name)
        case .reviewGrant(let holder) where holder == name:
            return .deny(.denySelfReview, user: name)
        case .reviewGrant: return .allow(.complianceReviewGrant, .audit, user: name)
        default: return denyRemaining(request.action, user: name)
        }
    }

    static func securityAdmin(_ user: Principal, _ request: AccessRequest) -> Decision {
        let name = user.username
        if fhirAccess(request.action) != nil { return .deny(.denyNoPHIRole, user: name) }
        let admin = Purpose.systemAdministration
        switch request.action {
        case .manageUsers: return .allow(.securityAdminManageUsers, admin, user: name)
        case .manageWebhooks: return .allow(.securityAdminManageWebhooks, admin, user: name)
        case .viewDeadLetters: return .allow(.securityAdminDeadLetters, admin, user: name)
        case .listOwnGrants: return .allow(.securityAdminListGrants, admin, user: name)
        case .endGrant: return .allow(.securityAdminEndGrant, admin, user: name)
        default: return denyRemaining(request.action, user: name)
        }
    }

    /// The fall-through for roles that are not clinicians: break-glass activation is refused
    /// by its own rule so the audit shows the attempt plainly; anything else is `deny.default`.
    static func denyRemaining(_ action: Action, user: String) -> Decision {
        if action == .activateBreakGlass { return .deny(.denyBreakGlassNotClinician, user: user) }
        return .deny(.denyDefault, user: user)
    }
}
