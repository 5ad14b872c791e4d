import Policy
import Store

extension GrantStore {
    /// The grant with this id, or nil. An id that is not well formed is not looked up.
    public func grant(_ id: String) throws(BreakGlassError) -> Grant? {
        try BreakGlassError.translating("read a break-glass grant") { try load(id) }
    }

    /// The grant as the access policy sees it, or nil when no grant has this id (which the
    /// policy treats as no grant named at all).
    public func evidence(_ id: String) throws(BreakGlassError) -> GrantEvidence? {
        try grant(id)?.evidence
    }

    /// The grants active at `now`, oldest first: the holder's, or everyone's when `holder`
    /// is nil (for security administrators).
    public func active(holder: String? = nil, now: Int64? = nil) throws(BreakGlassError)
        -> [Grant]
    {
        let now = now ?? clock.unixSeconds()
        let name = try holder.map { (raw) throws(BreakGlassError) in
            try SecondFactor.canonical(raw)
        }
        return try BreakGlassError.translating("list active break-glass grants") {
            try database.query(
                Self.selectGrant
                    + " WHERE (?1 IS NULL OR holder = ?1) AND ended_at IS NULL AND expires_at > ?2"
                    + " ORDER BY created_at, id",
                [.optionalText(name), .integer(now)], row: Self.grant(from:))
        }
    }

    /// Grants in any status, newest first, at most `limit` (1 to 1000): the holder's, or
    /// everyone's when `holder` is nil.
    public func all(holder: String? = nil, limit: Int = 100) throws(BreakGlassError) -> [Grant] {
        let name = try holder.map { (raw) throws(BreakGlassError) in
            try SecondFactor.canonical(raw)
        }
        let limit = min(max(limit, 1), 1000)
        return try BreakGlassError.translating("list break-glass grants") {
            try database.query(
                Self.selectGrant + " WHERE (?1 IS NULL OR holder = ?1)"
                    + " ORDER BY created_at DESC, id LIMIT ?2",
                [.optionalText(name), .int(limit)], row: Self.grant(from:))
        }
    }

    /// The grant with this id, or nil; inside or outside a transaction.
    func load(_ id: String) throws -> Grant? {
        guard Self.isWellFormedID(id) else {
            return nil
        }
        return try database.query(
            Self.selectGrant + " WHERE id = ?", [.text(id)], row: Self.grant(from:)
        ).first
    }

    /// Columns 0-9 of a grant, in ``grant(from:)``'s order.
    static let selectGrant = """
        SELECT id, holder, patient_id, reason, justification, second_factor_step, created_at,
            expires_at, ended_at, ended_by
        FROM break_glass_grants
        """

    static func grant(from row: Statement) throws -> Grant {
        guard let reason = ReasonCode(rawValue: row.text(at: 3) ?? "") else {
            throw BreakGlassError.storage(
                "a break-glass grant row holds a reason this program does not know")
        }
        return Grant(
            id: row.text(at: 0) ?? "", holder: row.text(at: 1) ?? "",
            patientID: row.text(at: 2) ?? "", reason: reason,
            justification: row.text(at: 4) ?? "",
            secondFactorStep: UInt64(max(row.int64(at: 5), 0)), createdAt: row.int64(at: 6),
            expiresAt: row.int64(at: 7), endedAt: row.isNull(at: 8) ? nil : row.int64(at: 8),
            endedBy: row.text(at: 9))
    }
}
