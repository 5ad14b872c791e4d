import Policy

/// One account as stored: who it is, its role, and its state. It holds no secret.
public struct Account: Sendable, Equatable {
    /// The canonical name (see ``Username``), unique across all roles.
    public var username: String
    /// The account's one role.
    public var role: Role
    /// The FHIR Practitioner id linked to a clinician; nil for every other role.
    public var practitionerID: String?
    /// A disabled account cannot log in and has no sessions.
    public var disabled: Bool
    /// When the account was created (Unix seconds).
    public var createdAt: Int64
    /// True when the account has a confirmed TOTP secret (the break-glass second factor).
    public var totpEnrolled: Bool

    public init(
        username: String, role: Role, practitionerID: String? = nil, disabled: Bool = false,
        createdAt: Int64, totpEnrolled: Bool = false
    ) {
        self.username = username
        self.role = role
        self.practitionerID = practitionerID
        self.disabled = disabled
        self.createdAt = createdAt
        self.totpEnrolled = totpEnrolled
    }

    /// The account as the access policy sees it.
    ///
    /// Build a `Principal` only from an account that is enabled and that a verified session
    /// or credential stands for; this property does not check either.
    public var principal: Principal {
        Principal(username: username, role: role, practitionerID: practitionerID)
    }
}
