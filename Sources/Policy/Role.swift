/// The five roles an account can hold. Each account holds exactly one, so no account combines
/// the rights of two roles into a superuser.
///
/// The raw values are the names used on the command line (`phigate user add NAME --role ROLE`),
/// in the identity store and in the audit log.
public enum Role: String, Sendable, CaseIterable {
    /// Reads clinical records of patients in their care; may activate break-glass.
    case clinician
    /// Searches patients and reads demographics (the Patient resource only).
    case registrar
    /// Queries, verifies and exports the audit log and reviews break-glass grants; no PHI.
    case compliance
    /// Administers accounts, webhooks and the alert outbox, and ends grants; no PHI.
    case securityAdmin = "security-admin"
    /// A service account: imports bundles, and acts on behalf of a named end user.
    case ehrSystem = "ehr-system"
}

/// An authenticated account, as the policy sees it.
///
/// The policy trusts these values: the caller builds a `Principal` only from a verified session
/// or service credential, or, for `X-On-Behalf-Of`, from an enabled account looked up by name.
public struct Principal: Sendable, Equatable {
    /// The account name, unique across all roles.
    public var username: String
    /// The account's one role.
    public var role: Role
    /// The FHIR Practitioner id linked to a clinician account, used by the caller to compute
    /// care relationships; the policy itself never reads it.
    public var practitionerID: String?

    public init(username: String, role: Role, practitionerID: String? = nil) {
        self.username = username
        self.role = role
        self.practitionerID = practitionerID
    }
}
