/// Every rule the policy can decide by. The raw value is the stable id written to
/// ``Decision/rule``, the audit log (`policy.rule`) and the documentation; renaming one is a
/// breaking change for audit queries.
public enum PolicyRule: String, Sendable, CaseIterable {
    // MARK: Allows

    /// Any authenticated principal may read the capability statement.
    case anyCapabilities = "any.capabilities"
    /// A clinician reads patient data of a patient in their care.
    case clinicianCareRelationship = "clinician.care_relationship"
    /// A clinician reads patient data under a valid grant they named.
    case clinicianBreakGlass = "clinician.break_glass"
    /// A clinician searches patients across the registry; the caller filters the results.
    case clinicianPatientSearchFiltered = "clinician.patient_search_filtered"
    /// A clinician activates a break-glass grant.
    case clinicianActivateBreakGlass = "clinician.activate_break_glass"
    /// A clinician lists their own grants.
    case clinicianListOwnGrants = "clinician.list_own_grants"
    /// A clinician ends a grant they hold.
    case clinicianEndOwnGrant = "clinician.end_own_grant"
    /// A clinician or registrar reads data outside any patient compartment.
    case directoryRead = "directory.read"
    /// A registrar reads or searches Patient resources.
    case registrarDemographics = "registrar.demographics"
    /// Compliance queries the audit log.
    case complianceAuditQuery = "compliance.audit_query"
    /// Compliance verifies the audit chain.
    case complianceAuditVerify = "compliance.audit_verify"
    /// Compliance exports the audit log.
    case complianceAuditExport = "compliance.audit_export"
    /// Compliance reads the accounting of disclosures.
    case complianceDisclosures = "compliance.disclosures"
    /// Compliance lists grants awaiting review.
    case complianceReviewList = "compliance.review_list"
    /// Compliance reviews a grant held by someone else.
    case complianceReviewGrant = "compliance.review_grant"
    /// A security administrator manages accounts.
    case securityAdminManageUsers = "security_admin.manage_users"
    /// A security administrator manages webhook subscribers.
    case securityAdminManageWebhooks = "security_admin.manage_webhooks"
    /// A security administrator reads dead-lettered webhook deliveries.
    case securityAdminDeadLetters = "security_admin.dead_letters"
    /// A security administrator lists everyone's grants.
    case securityAdminListGrants = "security_admin.list_grants"
    /// A security administrator ends anyone's grant.
    case securityAdminEndGrant = "security_admin.end_grant"
    /// An ehr-system imports a bundle in its own name.
    case ehrSystemImport = "ehr_system.import"

    // MARK: Denials

    /// Nothing allows this action for this role.
    case denyDefault = "deny.default"
    /// A clinician asked for a patient not in their care and named no grant.
    case denyNoRelationship = "deny.no_relationship"
    /// The named grant belongs to someone else.
    case denyGrantNotHolder = "deny.grant_not_holder"
    /// The named grant covers another patient.
    case denyGrantWrongPatient = "deny.grant_wrong_patient"
    /// The named grant was ended early.
    case denyGrantRevoked = "deny.grant_revoked"
    /// The named grant has run out.
    case denyGrantExpired = "deny.grant_expired"
    /// A clinician searched clinical data across all patients.
    case denyUnscopedSearch = "deny.unscoped_search"
    /// Patient data was asked for without a patient compartment to test.
    case denyNoPatientCompartment = "deny.no_patient_compartment"
    /// The resource type is neither patient data nor directory data phigate knows.
    case denyUnknownResourceType = "deny.unknown_resource_type"
    /// A registrar asked for patient data other than the Patient resource.
    case denyRegistrarDemographicsOnly = "deny.registrar_demographics_only"
    /// Compliance and security administrators read no FHIR data at all.
    case denyNoPHIRole = "deny.no_phi_role"
    /// Nobody reviews their own grant.
    case denySelfReview = "deny.self_review"
    /// A clinician tried to end a grant held by someone else.
    case denyNotGrantHolder = "deny.not_grant_holder"
    /// Only clinicians activate break-glass.
    case denyBreakGlassNotClinician = "deny.break_glass_not_clinician"
    /// `X-On-Behalf-Of` from a caller that is not an ehr-system (400).
    case denyOnBehalfOfNotAllowed = "deny.on_behalf_of_not_allowed"
    /// An ehr-system asked for a user's action without naming the user (400).
    case denyOnBehalfOfRequired = "deny.on_behalf_of_required"
    /// `X-On-Behalf-Of` named no enabled account.
    case denyOnBehalfOfUnresolved = "deny.on_behalf_of_unresolved"
    /// `X-On-Behalf-Of` named another ehr-system.
    case denyOnBehalfOfSystem = "deny.on_behalf_of_system"
    /// The action is never performed on someone's behalf (audit, review, admin, import).
    case denyOnBehalfOfScope = "deny.on_behalf_of_scope"

    /// True for the rules that reject a malformed request (400) rather than refuse it (403).
    public var isMalformedRequest: Bool {
        self == .denyOnBehalfOfNotAllowed || self == .denyOnBehalfOfRequired
    }
}
