/// Everything the policy needs to know about one request, gathered by the caller beforehand.
///
/// The caller's duties, which the policy cannot check:
/// - `caller` comes from a verified credential; `onBehalfOf` is the enabled account named by
///   `X-On-Behalf-Of`, or nil when the name is unknown or the account disabled.
/// - `patientID` is the patient compartment of what is asked for: the id for `Patient/{id}`
///   and `$everything`, the subject of a stored resource, the `patient=` of a search.
/// - `hasCareRelationship` is computed for the effective user (the on-behalf-of user when an
///   ehr-system proxies) and `patientID`, never for the ehr-system itself.
/// - Existence is never an input. The caller decides first and looks the patient up only after
///   an allow, so that a denial for a patient who does not exist is byte-for-byte the denial
///   for one who does; it must not branch on existence before or while answering a denial.
public struct AccessRequest: Sendable {
    /// Who authenticated; may be an ehr-system.
    public var caller: Principal
    /// The end user named by `X-On-Behalf-Of`, resolved by the caller; nil when the header is
    /// absent or names no enabled account.
    public var onBehalfOf: Principal?
    /// True when `X-On-Behalf-Of` was sent at all, even if it resolved to nobody. A non-nil
    /// `onBehalfOf` counts as the header being present whatever this says.
    public var onBehalfOfHeaderPresent: Bool
    /// What the request asks to do.
    public var action: Action
    /// The patient compartment of the data, nil for data outside any patient (Practitioner,
    /// Organization, …) and for searches spanning patients. An empty string counts as nil.
    public var patientID: String?
    /// True when the effective user has a care relationship with `patientID`.
    public var hasCareRelationship: Bool
    /// The grant named by `X-Break-Glass`, if the header was sent and the id exists.
    public var grant: GrantEvidence?
    /// The decision time, unix seconds.
    public var now: Int64

    public init(
        caller: Principal, onBehalfOf: Principal? = nil, onBehalfOfHeaderPresent: Bool = false,
        action: Action, patientID: String? = nil, hasCareRelationship: Bool = false,
        grant: GrantEvidence? = nil, now: Int64
    ) {
        self.caller = caller
        self.onBehalfOf = onBehalfOf
        self.onBehalfOfHeaderPresent = onBehalfOfHeaderPresent
        self.action = action
        self.patientID = patientID
        self.hasCareRelationship = hasCareRelationship
        self.grant = grant
        self.now = now
    }

    /// The patient compartment with the empty string folded into nil.
    var scopedPatient: String? {
        guard let patientID, !patientID.isEmpty else { return nil }
        return patientID
    }

    /// True when `X-On-Behalf-Of` was sent, resolved or not.
    var namesOnBehalfOf: Bool { onBehalfOfHeaderPresent || onBehalfOf != nil }
}
