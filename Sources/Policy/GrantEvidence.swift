/// The break-glass grant a request named with `X-Break-Glass`, as the caller found it in the
/// grant store.
///
/// A grant is never looked up by patient or holder: only the id the request sent is used, so a
/// grant never applies silently. When the header names an id that does not exist, the caller
/// passes nil, which the policy treats exactly like no header.
public struct GrantEvidence: Sendable, Equatable {
    /// The grant id.
    public var id: String
    /// The username the grant was issued to.
    public var holder: String
    /// The one patient the grant covers.
    public var patientID: String
    /// The end of the grant, in unix seconds; the grant is valid while `now < expiresAt`.
    public var expiresAt: Int64
    /// True once the grant was ended early by its holder or a security administrator.
    public var revoked: Bool

    public init(id: String, holder: String, patientID: String, expiresAt: Int64, revoked: Bool) {
        self.id = id
        self.holder = holder
        self.patientID = patientID
        self.expiresAt = expiresAt
        self.revoked = revoked
    }

    /// Why a grant does or does not cover a request.
    public enum Check: Sendable, Equatable {
        case valid
        case notHolder
        case wrongPatient
        case revoked
        case expired
    }

    /// Whether this grant covers `patientID` for `holder` at `now`.
    ///
    /// The checks run in a fixed order — holder, patient, revocation, expiry — so that a grant
    /// held by someone else is reported as such before anything else about it.
    public func check(patientID: String, holder: String, now: Int64) -> Check {
        if self.holder != holder { return .notHolder }
        if self.patientID != patientID { return .wrongPatient }
        if revoked { return .revoked }
        if now >= expiresAt { return .expired }
        return .valid
    }
}
