/// What really happened in a failed login, for the audit log and the alerting.
///
/// A client is told only `invalidCredentials` or `locked`; this value, carried by the
/// `AuthError`, tells the server's own records which of the indistinguishable cases it was.
/// Never serialize it into a response: the difference between `unknownUser` and
/// `wrongPassword` is exactly what an attacker enumerating accounts wants.
public struct LoginFailure: Sendable, Equatable {
    /// Why the login failed.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for the audit log.
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        /// The name does not canonicalize, so no account can have it.
        public static let invalidUsername = Reason("invalid_username")
        /// No account has the canonical name.
        public static let unknownUser = Reason("unknown_user")
        /// The account exists and the password does not match.
        public static let wrongPassword = Reason("wrong_password")
        /// The account is disabled (whether or not the password matched is not recorded, so
        /// that the audit log of a disabled account does not confirm a guessed password).
        public static let accountDisabled = Reason("account_disabled")
        /// The name is locked out; the password was not checked.
        public static let locked = Reason("locked")
    }

    /// Why the login failed.
    public var reason: Reason
    /// The canonical name that was tried, or nil when the input did not canonicalize.
    ///
    /// The audit log may record it: it is at most 64 characters of a restricted alphabet. The
    /// raw input is never kept, since users sometimes type a password into the name field.
    public var username: String?
    /// True for exactly one failure per lockout: the one that started it.
    public var lockoutStarted: Bool
    /// When the lockout ends (Unix seconds), if the name is locked after this attempt.
    public var lockedUntil: Int64?

    public init(
        reason: Reason, username: String?, lockoutStarted: Bool = false, lockedUntil: Int64? = nil
    ) {
        self.reason = reason
        self.username = username
        self.lockoutStarted = lockoutStarted
        self.lockedUntil = lockedUntil
    }
}
