import Policy

/// One break-glass grant: one holder, one patient, a bounded time.
///
/// A grant never applies by itself: a request names it (`X-Break-Glass`), and the policy
/// checks it through ``evidence``. It is kept for ever as evidence, ended or not.
public struct Grant: Sendable, Equatable {
    /// Where a grant stands at a given time.
    public enum Status: String, Sendable, CaseIterable {
        /// Unended and before `expiresAt`: it covers requests that name it.
        case active
        /// `expiresAt` has passed without the grant being ended.
        case expired
        /// Ended early by its holder or a security administrator.
        case ended
    }

    /// "bg_" and 22 characters of base64url (16 random bytes).
    public var id: String
    /// The canonical name of the clinician who activated it.
    public var holder: String
    /// The one patient it covers.
    public var patientID: String
    /// The reason code chosen at activation.
    public var reason: ReasonCode
    /// The justification as written (trimmed).
    public var justification: String
    /// The TOTP time step whose code authorized the activation.
    public var secondFactorStep: UInt64
    /// Activation time (Unix seconds).
    public var createdAt: Int64
    /// The grant covers requests while `now < expiresAt`.
    public var expiresAt: Int64
    /// When it was ended early, if it was.
    public var endedAt: Int64?
    /// Who ended it early: the holder or a security administrator.
    public var endedBy: String?

    public init(
        id: String, holder: String, patientID: String, reason: ReasonCode, justification: String,
        secondFactorStep: UInt64, createdAt: Int64, expiresAt: Int64, endedAt: Int64? = nil,
        endedBy: String? = nil
    ) {
        self.id = id
        self.holder = holder
        self.patientID = patientID
        self.reason = reason
        self.justification = justification
        self.secondFactorStep = secondFactorStep
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.endedAt = endedAt
        self.endedBy = endedBy
    }

    /// The grant's status at `now`. An ended grant stays `.ended` after its expiry time.
    public func status(at now: Int64) -> Status {
        if endedAt != nil {
            return .ended
        }
        return now >= expiresAt ? .expired : .active
    }

    /// What the access policy needs to decide whether the grant covers a request.
    public var evidence: GrantEvidence {
        GrantEvidence(
            id: id, holder: holder, patientID: patientID, expiresAt: expiresAt,
            revoked: endedAt != nil)
    }
}

extension Grant: CustomStringConvertible {
    /// Ids, reason and times only: the justification may describe the patient, and the
    /// patient id is kept out of anything that might reach a log by accident.
    public var description: String {
        "Grant(\(id), holder: \(holder), reason: \(reason.rawValue), created: \(createdAt), "
            + "expires: \(expiresAt), ended: \(endedAt.map(String.init) ?? "no"))"
    }
}
