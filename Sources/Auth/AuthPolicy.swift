import Crypto

/// The numbers behind sessions, lockout and passwords.
///
/// The defaults follow common guidance for systems holding health records: a 15-minute idle
/// timeout and an 8-hour (one shift) absolute lifetime, 5 failures in 15 minutes locking a
/// name for 15 minutes, passwords of at least 12 characters (NIST SP 800-63B allows 8 for
/// user-chosen passwords; 12 is the common stricter choice) hashed with scrypt.
public struct AuthPolicy: Sendable, Equatable {
    /// A session unused for this long ends.
    public var idleTimeoutSeconds: Int64 = 900
    /// A session ends this long after login, however busy.
    public var absoluteTimeoutSeconds: Int64 = 28_800
    /// This many failed logins inside the window lock the name.
    public var lockoutThreshold: Int = 5
    /// The sliding window in which failures are counted.
    public var lockoutWindowSeconds: Int64 = 900
    /// How long a lockout lasts.
    public var lockoutSeconds: Int64 = 900
    /// The fewest characters (Unicode scalars after NFKC) a new password may have.
    public var minimumPasswordLength: Int = 12
    /// The most characters a new password may have; it bounds the work of hashing.
    public var maximumPasswordLength: Int = 1024
    /// `lastSeenAt` is written at most this often per session, so that a busy client does
    /// not cost a database write per request. Idle expiry is therefore early by up to this
    /// much, never late.
    public var sessionTouchIntervalSeconds: Int64 = 60
    /// The scrypt cost of new password hashes. Stored hashes of another cost still verify and
    /// are replaced at the next successful login.
    public var passwordCost: PasswordHash.Cost = .standard

    public init() {}

    /// Throws `.invalidPolicy` naming the first field that is out of range.
    public func validate() throws(AuthError) {
        let checks: [(Bool, String)] = [
            (idleTimeoutSeconds > 0, "idleTimeoutSeconds must be positive"),
            (absoluteTimeoutSeconds > 0, "absoluteTimeoutSeconds must be positive"),
            (lockoutThreshold > 0, "lockoutThreshold must be positive"),
            (lockoutWindowSeconds > 0, "lockoutWindowSeconds must be positive"),
            (lockoutSeconds > 0, "lockoutSeconds must be positive"),
            (minimumPasswordLength >= 8, "minimumPasswordLength must be at least 8"),
            (
                maximumPasswordLength >= minimumPasswordLength,
                "maximumPasswordLength must not be below minimumPasswordLength"
            ),
            (sessionTouchIntervalSeconds >= 0, "sessionTouchIntervalSeconds must not be negative"),
        ]
        for (holds, message) in checks where !holds {
            throw AuthError(.invalidPolicy, message)
        }
    }
}
