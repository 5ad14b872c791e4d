import Crypto
import Store
import Support

/// Password login, bearer sessions and lockout over an ``IdentityStore``.
///
/// What a client can learn from a failed login is deliberately little: a wrong password, an
/// unknown name, a name that is not a valid username and a disabled account all give
/// `.invalidCredentials` after the same work (one scrypt verification; unknown names are
/// checked against a dummy hash made at start-up). The only other answer is `.locked`, which
/// is given for unknown names too, so it reveals nothing about which accounts exist. The
/// true reason travels in `AuthError.loginFailure` for the audit log.
///
/// Lockout is keyed on the canonical name, so every spelling of a name shares one budget:
/// `lockoutThreshold` failures within a sliding `lockoutWindowSeconds` lock the name for
/// `lockoutSeconds`, during which even the right password is refused (and not checked). The
/// failure that starts a lockout is marked `lockoutStarted`; exactly one failure per lockout
/// is, even with several connections racing, because counting runs in a write transaction.
/// A lockout keyed on the name lets anyone lock a known name out for a while; that is the
/// accepted price of stopping password guessing, and an administrator can ``unlock(_:)``.
///
/// Threading: not `Sendable`; one `Authenticator` per `IdentityStore`, used by the thread
/// that owns the store's connection.
public final class Authenticator {
    /// The store holding accounts, sessions and lockouts.
    public let store: IdentityStore
    /// Session lifetimes, lockout numbers and the scrypt cost of re-hashed passwords.
    public let policy: AuthPolicy
    /// The time used when a call passes no explicit `now`.
    public let clock: WallClock
    /// A hash of a random password nobody knows, at the policy's cost: unknown names are
    /// verified against it so that they cost as much as known ones.
    private let dummyHash: String

    /// Creates an authenticator; `policy` and `clock` default to the store's.
    ///
    /// Computes one scrypt hash (the dummy), so creating one takes as long as a login.
    /// Throws `.invalidPolicy` for a policy out of range, `.crypto` if hashing fails.
    public init(
        store: IdentityStore, policy: AuthPolicy? = nil, clock: WallClock? = nil
    ) throws(AuthError) {
        let policy = policy ?? store.policy
        try policy.validate()
        self.store = store
        self.policy = policy
        self.clock = clock ?? store.clock
        self.dummyHash = try AuthError.translating("prepare the login check") {
            try PasswordHash.hash(SecureRandom.token(), cost: policy.passwordCost)
        }
    }

    var database: Database {
        store.database
    }

    /// Checks a username and password and, when they match an enabled account whose name is
    /// not locked, starts a session.
    ///
    /// On success the name's failure count is cleared, a stored hash of an outdated cost is
    /// replaced, and the new session's token is returned once (only its SHA-256 digest is
    /// stored). Throws `.invalidCredentials` or `.locked`, each with a ``LoginFailure``;
    /// `.storage` or `.crypto` when the store or the hash fails.
    public func login(
        username: String, password: String, now: Int64? = nil
    ) throws(AuthError) -> LoginResult {
        let now = now ?? clock.unixSeconds()
        guard let name = Username.canonical(username) else {
            // No account can have this name and none is counted; the work is spent anyway so
            // that the answer takes as long as any other failure.
            _ = PasswordHash.verify(password, against: dummyHash)
            throw AuthError.invalidCredentials(
                LoginFailure(reason: .invalidUsername, username: nil))
        }

        return try AuthError.translating("log in") {
            if let lockedUntil = try lockedUntil(name, at: now) {
                throw Self.locked(
                    LoginFailure(
                        reason: .locked, username: name, lockedUntil: lockedUntil))
            }
            let stored = try store.credentials(of: name)
            let matches = PasswordHash.verify(password, against: stored?.passwordHash ?? dummyHash)
            guard let stored, matches, !stored.account.disabled else {
                let reason: LoginFailure.Reason
                if let stored {
                    reason = stored.account.disabled ? .accountDisabled : .wrongPassword
                } else {
                    reason = .unknownUser
                }
                throw try recordFailure(of: name, reason: reason, at: now)
            }
            return try startSession(
                for: name, password: password, storedHash: stored.passwordHash, at: now)
        }
    }

    /// Creates the session after a successful password check, in one transaction that also
    /// clears the failure count.
    ///
    /// The lockout and the account are read again inside the transaction: another connection
    /// may have locked the name, disabled the account or replaced its password while scrypt
    /// ran.
    private func startSession(
        for name: String, password: String, storedHash: String, at now: Int64
    ) throws -> LoginResult {
        // Hashing happens before the transaction so that the write lock is not held for it.
        let newHash: String? =
            PasswordHash.needsRehash(storedHash, cost: policy.passwordCost)
            ? try PasswordHash.hash(password, cost: policy.passwordCost) : nil
        let token = SecureRandom.token(byteCount: 32)

        return try database.transaction {
            if let lockedUntil = try lockedUntil(name, at: now) {
                throw Self.locked(
                    LoginFailure(
                        reason: .locked, username: name, lockedUntil: lockedUntil))
            }
            guard let current = try store.credentials(of: name), !current.account.disabled else {
                throw AuthError.invalidCredentials(
                    LoginFailure(reason: .accountDisabled, username: name))
            }
            guard current.passwordHash == storedHash else {
                // An administrator set a new password while this one was being checked.
                throw AuthError.invalidCredentials(
                    LoginFailure(reason: .wrongPassword, username: name))
            }
            let account = current.account
            try clearFailures(of: name)
            if let newHash {
                try database.run(
                    "UPDATE accounts SET password_hash = ? WHERE username = ?",
                    [.text(newHash), .text(name)])
            }
            let session = Session(
                username: name, role: account.role, createdAt: now, lastSeenAt: now,
                expiresAt: now + policy.absoluteTimeoutSeconds,
                idleExpiresAt: now + policy.idleTimeoutSeconds)
            try database.run(
                "INSERT INTO sessions(token_hash, username, created_at, last_seen_at, expires_at) "
                    + "VALUES (?, ?, ?, ?, ?)",
                [
                    .blob(Self.digest(token)), .text(name), .integer(now), .integer(now),
                    .integer(session.expiresAt),
                ])
            return LoginResult(token: token, session: session, account: account)
        }
    }

    static func locked(_ failure: LoginFailure) -> AuthError {
        AuthError(.locked, "too many failed logins; try again later", loginFailure: failure)
    }
}
