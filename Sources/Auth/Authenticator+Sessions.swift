import Crypto
import Store

extension Authenticator {
    /// The session and account a bearer token stands for.
    ///
    /// The token is looked up by its SHA-256 digest. Comparing digests in the index is not a
    /// timing oracle for the token: timing could at most reveal a prefix of a digest, and
    /// choosing a token with a wanted digest prefix is as hard as guessing the token.
    ///
    /// A session past its absolute lifetime or idle timeout is deleted and refused with
    /// `.sessionExpired`; one whose account is disabled is deleted and refused with
    /// `.disabled`. `lastSeenAt` is written only when the stored value is at least
    /// `sessionTouchIntervalSeconds` old, so most requests cause no write. Throws
    /// `.invalidToken` for a malformed token or one that names no session.
    public func authenticate(
        token: String, now: Int64? = nil
    ) throws(AuthError) -> (session: Session, account: Account) {
        let now = now ?? clock.unixSeconds()
        guard Self.isWellFormedToken(token) else {
            throw Self.invalidToken
        }
        let digest = Self.digest(token)

        return try AuthError.translating("check a session") {
            let row = try database.query(
                "SELECT username, created_at, last_seen_at, expires_at FROM sessions "
                    + "WHERE token_hash = ?",
                [.blob(digest)]
            ) { row in
                (
                    name: row.text(at: 0) ?? "", createdAt: row.int64(at: 1),
                    lastSeenAt: row.int64(at: 2), expiresAt: row.int64(at: 3)
                )
            }.first
            guard let row, let account = try store.loadAccount(row.name) else {
                throw Self.invalidToken
            }
            let lastSeenAt = row.lastSeenAt
            var session = Session(
                username: row.name, role: account.role, createdAt: row.createdAt,
                lastSeenAt: lastSeenAt, expiresAt: row.expiresAt,
                idleExpiresAt: lastSeenAt + policy.idleTimeoutSeconds)

            guard session.isValid(at: now) else {
                try deleteSession(digest)
                throw AuthError(.sessionExpired, "the session has expired; log in again")
            }
            guard !account.disabled else {
                try deleteSession(digest)
                throw AuthError(.disabled, "the account has been disabled")
            }
            if now - lastSeenAt >= policy.sessionTouchIntervalSeconds {
                try database.run(
                    "UPDATE sessions SET last_seen_at = ? "
                        + "WHERE token_hash = ? AND last_seen_at < ?",
                    [.integer(now), .blob(digest), .integer(now)])
                session.lastSeenAt = now
                session.idleExpiresAt = now + policy.idleTimeoutSeconds
            }
            return (session, account)
        }
    }

    /// Ends the session of `token`; returns true when there was one. A malformed or unknown
    /// token is not an error: the client is signed out either way.
    @discardableResult
    public func logout(token: String) throws(AuthError) -> Bool {
        guard Self.isWellFormedToken(token) else {
            return false
        }
        return try AuthError.translating("end a session") {
            try deleteSession(Self.digest(token))
        }
    }

    /// Ends every session of the account; returns how many there were.
    ///
    /// Throws `.invalidUsername`, or `.unknownUser` when there is no such account.
    @discardableResult
    public func endSessions(of rawName: String) throws(AuthError) -> Int {
        let name = try IdentityStore.canonicalName(rawName)
        return try AuthError.translating("end sessions") {
            try database.transaction {
                _ = try store.requireAccount(name)
                return try store.deleteSessions(of: name)
            }
        }
    }

    /// Deletes every session that has expired by `now`; returns how many. Expired sessions
    /// are refused whether or not this runs; it only keeps the table small.
    @discardableResult
    public func purgeExpiredSessions(now: Int64? = nil) throws(AuthError) -> Int {
        let now = now ?? clock.unixSeconds()
        return try AuthError.translating("purge expired sessions") {
            try database.run(
                "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
                [.integer(now), .integer(now - policy.idleTimeoutSeconds)])
            return database.changes
        }
    }

    /// The number of sessions the account has now, expired ones not yet removed included.
    public func sessionCount(of rawName: String) throws(AuthError) -> Int {
        let name = try IdentityStore.canonicalName(rawName)
        return try AuthError.translating("count sessions") {
            Int(
                try database.scalar(
                    "SELECT count(*) FROM sessions WHERE username = ?", [.text(name)]) ?? 0)
        }
    }

    /// The SHA-256 digest under which a token's session is stored.
    static func digest(_ token: String) -> [UInt8] {
        SHA256.hash(Array(token.utf8))
    }

    /// Whether `token` could be one this type issued: 16 to 256 characters of the base64url
    /// alphabet. Anything else is refused before it is hashed or reaches SQL.
    static func isWellFormedToken(_ token: String) -> Bool {
        let bytes = token.utf8
        return (16...256).contains(bytes.count)
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    return true
                default:
                    return false
                }
            }
    }

    private static var invalidToken: AuthError {
        AuthError(.invalidToken, "the bearer token is not valid")
    }

    @discardableResult
    private func deleteSession(_ digest: [UInt8]) throws -> Bool {
        try database.run("DELETE FROM sessions WHERE token_hash = ?", [.blob(digest)])
        return database.changes == 1
    }
}
