import Store

extension SecondFactor {
    /// When the lockout of this account's factor ends, or nil when it is not locked at `now`.
    /// For an administrator's view.
    public func lockedUntil(of username: String, now: Int64? = nil) throws(BreakGlassError)
        -> Int64?
    {
        let name = try Self.canonical(username)
        let now = now ?? identities.clock.unixSeconds()
        return try BreakGlassError.translating("read a second-factor lockout") {
            try lockedUntil(name, at: now)
        }
    }

    /// Lifts a lockout and forgets the account's failures and lockout history; returns true
    /// when a lockout was in force. For a security administrator who has confirmed the
    /// user's identity.
    @discardableResult
    public func unlock(_ username: String, now: Int64? = nil) throws(BreakGlassError) -> Bool {
        let name = try Self.canonical(username)
        let now = now ?? identities.clock.unixSeconds()
        return try BreakGlassError.translating("lift a second-factor lockout") {
            try database.transaction {
                let wasLocked = try lockedUntil(name, at: now) != nil
                try clearFailures(of: name)
                return wasLocked
            }
        }
    }

    /// The end of the lockout in force for `name` (canonical) at `now`, or nil.
    func lockedUntil(_ name: String, at now: Int64) throws -> Int64? {
        try database.query(
            "SELECT locked_until FROM break_glass_totp_lockouts "
                + "WHERE username = ? AND locked_until > ?",
            [.text(name), .integer(now)]
        ) { $0.int64(at: 0) }.first
    }

    /// Counts one failed code of `name` (canonical) and returns `error`, marked with the
    /// lockout when this failure exhausted the budget.
    ///
    /// Runs inside the caller's transaction. Failures older than the window are dropped for
    /// every account, so the table stays small. When the account now has `maxFailures`
    /// inside the window, its failures are forgotten and a lockout starts whose length
    /// doubles with each lockout that follows an earlier one within `lockoutMemorySeconds`.
    func recordFailure(
        of name: String, at now: Int64, _ error: BreakGlassError
    ) throws -> BreakGlassError {
        let windowStart = now - policy.failureWindowSeconds
        try database.run(
            "DELETE FROM break_glass_totp_failures WHERE failed_at <= ?", [.integer(windowStart)])
        try database.run(
            "INSERT INTO break_glass_totp_failures(username, failed_at) VALUES (?, ?)",
            [.text(name), .integer(now)])
        let count =
            try database.scalar(
                "SELECT count(*) FROM break_glass_totp_failures "
                    + "WHERE username = ? AND failed_at > ?",
                [.text(name), .integer(windowStart)]) ?? 0
        guard count >= Int64(policy.maxFailures) else {
            return error
        }

        let previous = try database.query(
            "SELECT level, locked_until FROM break_glass_totp_lockouts WHERE username = ?",
            [.text(name)]
        ) { (level: Int($0.int64(at: 0)), until: $0.int64(at: 1)) }.first
        var level = 1
        if let previous, previous.until + policy.lockoutMemorySeconds > now {
            level = previous.level + 1
        }
        let until = now + policy.lockoutSeconds(level: level)
        try database.run(
            "DELETE FROM break_glass_totp_failures WHERE username = ?", [.text(name)])
        try database.run(
            "INSERT INTO break_glass_totp_lockouts(username, level, locked_until) "
                + "VALUES (?, ?, ?) ON CONFLICT(username) DO UPDATE SET "
                + "level = excluded.level, locked_until = excluded.locked_until",
            [.text(name), .int(level), .integer(until)])
        var locked = error
        locked.message += "; too many wrong codes, the second factor is locked for a while"
        locked.lockedUntil = until
        locked.lockoutStarted = true
        return locked
    }

    /// Forgets the failures and the lockout history of `name` (canonical).
    func clearFailures(of name: String) throws {
        try database.run(
            "DELETE FROM break_glass_totp_failures WHERE username = ?", [.text(name)])
        try database.run(
            "DELETE FROM break_glass_totp_lockouts WHERE username = ?", [.text(name)])
    }
}
