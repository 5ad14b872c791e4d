import Policy
import Store

/// What a clinician sends to break the glass, as the App parsed it from the request body.
///
/// The fields are kept as received (the reason as text, the duration optional) so that
/// every rule is checked in one place, ``validated(for:policy:)``, with one error code each.
public struct ActivationRequest: Sendable, Equatable {
    /// The one patient the grant will cover (a FHIR logical id).
    public var patientID: String
    /// One of the ``ReasonCode`` raw values.
    public var reason: String
    /// Free text saying why; see ``FreeText`` for the characters allowed.
    public var justification: String
    /// The caller's acknowledgement that the access is recorded, alerted and reviewed.
    public var acknowledged: Bool
    /// How long the grant lasts; nil for the policy's default.
    public var durationMinutes: Int?

    public init(
        patientID: String, reason: String, justification: String, acknowledged: Bool,
        durationMinutes: Int? = nil
    ) {
        self.patientID = patientID
        self.reason = reason
        self.justification = justification
        self.acknowledged = acknowledged
        self.durationMinutes = durationMinutes
    }

    /// A request that passed every rule that does not need the database.
    struct Validated {
        var holder: String
        var patientID: String
        var reason: ReasonCode
        var justification: String
        var durationSeconds: Int64
    }

    /// Checks the request for `holder` and returns it cleaned (justification trimmed, reason
    /// and duration resolved).
    ///
    /// In this order: only a clinician may break the glass (`.notPermitted`); the holder's
    /// name must canonicalize (`.unknownUser`); then `.invalidPatientID`, `.invalidReason`,
    /// `.invalidJustification`, `.notAcknowledged` and `.invalidDuration` (1 minute to the
    /// policy's maximum). Messages name the rule, never the text that broke it.
    func validated(
        for holder: Principal, policy: BreakGlassPolicy
    ) throws(BreakGlassError) -> Validated {
        guard holder.role == .clinician else {
            throw BreakGlassError(.notPermitted, "only clinicians may activate break-glass")
        }
        let name = try SecondFactor.canonical(holder.username)
        guard FHIRSyntax.isValidID(patientID) else {
            throw BreakGlassError(
                .invalidPatientID,
                "a patient id is 1 to 64 characters of A-Z, a-z, 0-9, '-' and '.'")
        }
        guard let reason = ReasonCode(rawValue: reason) else {
            throw BreakGlassError(.invalidReason, "reason must be one of " + ReasonCode.accepted)
        }
        let justification = try Self.cleanJustification(justification, policy: policy)
        guard acknowledged else {
            throw BreakGlassError(
                .notAcknowledged,
                "acknowledge must be true: break-glass access is recorded, alerted and reviewed")
        }
        let minutes = durationMinutes ?? policy.defaultMinutes
        guard (1...policy.maximumMinutes).contains(minutes) else {
            throw BreakGlassError(
                .invalidDuration,
                "a break-glass grant lasts 1 to \(policy.maximumMinutes) minutes")
        }
        return Validated(
            holder: name, patientID: patientID, reason: reason, justification: justification,
            durationSeconds: Int64(minutes) * 60)
    }

    private static func cleanJustification(
        _ raw: String, policy: BreakGlassPolicy
    ) throws(BreakGlassError) -> String {
        let bounds = "\(policy.justificationMinimum) to \(BreakGlassPolicy.justificationMaximum)"
        switch FreeText.cleaned(
            raw, minimum: policy.justificationMinimum,
            maximum: BreakGlassPolicy.justificationMaximum)
        {
        case .success(let text):
            return text
        case .failure(.forbiddenCharacter):
            throw BreakGlassError(
                .invalidJustification,
                "a justification holds no control characters other than line feeds")
        case .failure:
            throw BreakGlassError(
                .invalidJustification,
                "a justification has \(bounds) characters, not counting surrounding spaces")
        }
    }
}

extension ActivationRequest: CustomStringConvertible {
    /// The reason (when it is a known code) and the duration only: the patient id, the
    /// justification and any other typed text stay out of what might reach a log.
    public var description: String {
        let code = ReasonCode(rawValue: reason)?.rawValue ?? "<unknown>"
        let minutes = durationMinutes.map(String.init) ?? "default"
        return "ActivationRequest(reason: \(code), acknowledged: \(acknowledged), "
            + "minutes: \(minutes))"
    }
}
