/// The policy's answer to one request, with the rule that produced it.
///
/// A decision is data for two readers: the handler, which proceeds only when `allowed` is true
/// and otherwise answers with `status`; and the audit log, which records `rule`, `purpose`,
/// `effectiveUser`, `proxiedBy` and `grantID` for every request, allowed or denied.
public struct Decision: Sendable, Equatable {
    /// True when the request may proceed.
    public var allowed: Bool
    /// The stable dotted id of the rule that decided (see ``PolicyRule``).
    public var rule: String
    /// The purpose of use an allow is recorded under; nil for denials.
    public var purpose: Purpose?
    /// The username whose rights were applied: the on-behalf-of user when an ehr-system
    /// proxies, otherwise the caller.
    public var effectiveUser: String
    /// The ehr-system that proxied the request, when the decision applied a proxied user's
    /// rights.
    public var proxiedBy: String?
    /// True when a clinician was denied patient data for want of a care relationship, so a
    /// break-glass grant for this patient would allow the request; the 403 says how to get one.
    public var breakGlassAvailable: Bool
    /// The grant that allowed the request, when a break-glass grant did.
    public var grantID: String?
    /// 200 for an allow (the handler picks its own success code, such as 201); 403 for a
    /// denial; 400 for a malformed combination of headers, which the client must fix.
    public var status: Int

    public init(
        allowed: Bool, rule: String, purpose: Purpose?, effectiveUser: String,
        proxiedBy: String? = nil, breakGlassAvailable: Bool = false, grantID: String? = nil,
        status: Int
    ) {
        self.allowed = allowed
        self.rule = rule
        self.purpose = purpose
        self.effectiveUser = effectiveUser
        self.proxiedBy = proxiedBy
        self.breakGlassAvailable = breakGlassAvailable
        self.grantID = grantID
        self.status = status
    }

    /// An allow under `rule` for `user`.
    static func allow(
        _ rule: PolicyRule, _ purpose: Purpose, user: String, grantID: String? = nil
    ) -> Decision {
        Decision(
            allowed: true, rule: rule.rawValue, purpose: purpose, effectiveUser: user,
            grantID: grantID, status: 200)
    }

    /// A denial under `rule` for `user`; 403 unless the rule is a malformed request.
    static func deny(
        _ rule: PolicyRule, user: String, breakGlassAvailable: Bool = false
    ) -> Decision {
        Decision(
            allowed: false, rule: rule.rawValue, purpose: nil, effectiveUser: user,
            breakGlassAvailable: breakGlassAvailable, status: rule.isMalformedRequest ? 400 : 403)
    }
}
