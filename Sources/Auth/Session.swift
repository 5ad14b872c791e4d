import Policy

/// A signed-in session, as stored and as returned to the caller. It never holds the token.
///
/// A session is valid until the earlier of `expiresAt` (the absolute lifetime, fixed at
/// login) and `idleExpiresAt` (moved forward as the session is used).
public struct Session: Sendable, Equatable {
    /// The canonical name of the account.
    public var username: String
    /// The account's role when the session was read (a role change applies at once).
    public var role: Role
    /// Login time (Unix seconds).
    public var createdAt: Int64
    /// The last recorded use (Unix seconds); written at most once per
    /// `AuthPolicy.sessionTouchIntervalSeconds`.
    public var lastSeenAt: Int64
    /// The end of the absolute lifetime (Unix seconds).
    public var expiresAt: Int64
    /// `lastSeenAt` plus the idle timeout (Unix seconds).
    public var idleExpiresAt: Int64

    public init(
        username: String, role: Role, createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64,
        idleExpiresAt: Int64
    ) {
        self.username = username
        self.role = role
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.idleExpiresAt = idleExpiresAt
    }

    /// The moment the session stops being valid unless it is used before then.
    public var validUntil: Int64 {
        min(expiresAt, idleExpiresAt)
    }

    /// Whether the session is still valid at `now`.
    public func isValid(at now: Int64) -> Bool {
        now < validUntil
    }
}

/// A successful login.
public struct LoginResult: Sendable {
    /// The bearer token. It exists only here: the store keeps its SHA-256 digest, so it cannot
    /// be shown again. Hand it to the client once and do not log it.
    public var token: String
    /// The new session.
    public var session: Session
    /// The account that logged in.
    public var account: Account

    public init(token: String, session: Session, account: Account) {
        self.token = token
        self.session = session
        self.account = account
    }
}
