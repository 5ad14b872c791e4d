import Store

extension Authenticator {
    /// When the lockout of this name ends, or nil when it is not locked at `now`.
    ///
    /// For an administrator's view; throws `.invalidUsername` when the name does not
    /// canonicalize. Unknown names can be locked too.
    public func lockedUntil(of rawName: String, now: Int64? = nil) throws(AuthError) -> Int64? {
        let name = try IdentityStore.canonicalName(rawName)
        let now = now ?? clock.unixSeconds()
        return try AuthError.translating("read a lockout") { try lockedUntil(name, at: now) }
    }

    /// Lifts a lockout and forgets the name's recent failures; returns true when a lockout
    /// was in force. For a security administrator who has confirmed the user's identity.
    @discardableResult
    public func unlock(_ rawName: String, now: Int64? = nil) throws(AuthError) -> Bool {
        let name = try IdentityStore.canonicalName(rawName)
        let now = now ?? clock.unixSeconds()
        return try AuthError.translating("lift a lockout") {
            try database.transaction {
                let wasLocked = try lockedUntil(name, at: now) != nil
                try clearFailures(of: name)
                return wasLocked
            }
        }
    }

    /// The end of the lockout in force for `name` (canonical), or nil.
    func lockedUntil(_ name: String, at now: Int64) throws -> Int64? {
        try database.query(
            "SELECT locked_until FROM login_lockouts WHERE username = ? AND locked_until > ?",
            [.text(name), .integer(now)]
        ) { $0.int64(at: 0) }.first
    }

    /// Counts one failed login of `name` (canonical) and returns the error to throw.
    ///
    /// In one write transaction: if another connection locked the name meanwhile, the answer
    /// is `.locked` without counting; otherwise the failure is recorded, failures older than
    /// the window are dropped (for every name, so the table stays small), and when the name
    /// now has `lockoutThreshold` failures inside the window a lockout starts. Its failures
    /// are then forgotten, so the name gets a fresh budget when the lockout ends.
    func recordFailure(
        of name: String, reason: LoginFailure.Reason, at now: Int64
    ) throws -> AuthError {
        try database.transaction {
            if let lockedUntil = try lockedUntil(name, at: now) {
                return Self.locked(
                    LoginFailure(reason: reason, username: name, lockedUntil: lockedUntil))
            }
            let windowStart = now - policy.lockoutWindowSeconds
            try database.run(
                "DELETE FROM login_failures WHERE failed_at <= ?", [.integer(windowStart)])
            try database.run("DELETE FROM login_lockouts WHERE locked_until <= ?", [.integer(now)])
            try database.run(
                "INSERT INTO login_failures(username, failed_at) VALUES (?, ?)",
                [.text(name), .integer(now)])
            let count =
                try database.scalar(
                    "SELECT count(*) FROM login_failures WHERE username = ? AND failed_at > ?",
                    [.text(name), .integer(windowStart)]) ?? 0
            guard count >= Int64(policy.lockoutThreshold) else {
                return AuthError.invalidCredentials(LoginFailure(reason: reason, username: name))
            }

            let lockedUntil = now + policy.lockoutSeconds
            try database.run("DELETE FROM login_failures WHERE username = ?", [.text(name)])
            try database.run(
                "INSERT INTO login_lockouts(username, locked_until) VALUES (?, ?) "
                    + "ON CONFLICT(username) DO UPDATE SET locked_until = excluded.locked_until",
                [.text(name), .integer(lockedUntil)])
            return Self.locked(
                LoginFailure(
                    reason: reason, username: name, lockoutStarted: true,
                    lockedUntil: lockedUntil))
        }
    }

    /// Forgets the failures and any lockout of `name` (canonical).
    func clearFailures(of name: String) throws {
        try database.run("DELETE FROM login_failures WHERE username = ?", [.text(name)])
        try database.run("DELETE FROM login_lockouts WHERE username = ?", [.text(name)])
    }
}
