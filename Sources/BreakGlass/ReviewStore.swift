import Policy
import Store
import Support

/// The compliance review queue of break-glass grants.
///
/// ``GrantStore`` queues every grant at activation, in the same transaction. A review takes
/// one final decision (justified or unjustified); before it, any number of needs-follow-up
/// decisions may be recorded, each kept, so that a reviewer can park a grant while waiting
/// for information. After a final decision the review is closed (`.alreadyReviewed`).
/// Reviewers must be compliance accounts, never the grant's holder. The role is also
/// checked by the App; it is checked here again so that no route can forget it.
///
/// Threading: like its `Database`, one thread at a time; not `Sendable`.
public final class ReviewStore {
    /// The records database the tables live in.
    public let database: Database
    /// The time used when a method is not given `now`.
    public let clock: WallClock

    /// Opens the store over `database`, creating or migrating the break-glass tables when it
    /// is writable.
    public init(database: Database, clock: WallClock = WallClock()) throws(BreakGlassError) {
        try BreakGlassSchema.prepare(database)
        self.database = database
        self.clock = clock
    }

    /// The review of this grant, or nil when no grant has this id.
    public func review(for grantID: String) throws(BreakGlassError) -> Review? {
        try BreakGlassError.translating("read a review") { try load(grantID) }
    }

    /// Reviews without any decision, the oldest deadline first.
    public func pending(limit: Int = 100) throws(BreakGlassError) -> [Review] {
        try list(status: .pending, limit: limit)
    }

    /// Reviews in `status` (all when nil): open ones (pending, needs-follow-up) by deadline,
    /// completed ones newest first; at most `limit` (1 to 10,000).
    public func list(status: ReviewStatus?, limit: Int = 100) throws(BreakGlassError)
        -> [Review]
    {
        let order =
            status == .completed ? "g.created_at DESC, g.id" : "r.due_at, g.id"
        return try BreakGlassError.translating("list reviews") {
            try loadMany(
                "WHERE (?1 IS NULL OR r.status = ?1) ORDER BY " + order + " LIMIT ?2",
                [.optionalText(status?.rawValue), .int(min(max(limit, 1), 10_000))])
        }
    }

    /// Records a reviewer's decision on a grant and runs `within` in the same transaction;
    /// returns the review as it now stands.
    ///
    /// In this order: a reviewer who is not compliance is `.notPermitted`; notes over 4000
    /// characters or with control characters other than line feeds are `.invalidNotes`; an
    /// unknown grant is `.notFound`; the grant's holder is `.selfReview`; a closed review is
    /// `.alreadyReviewed`. Throws a `BreakGlassError`, or what `within` threw, unchanged.
    @discardableResult
    public func review(
        _ grantID: String, reviewer: Principal, disposition: Disposition, notes: String,
        now: Int64? = nil, within: (Review) throws -> Void = { _ in }
    ) throws -> Review {
        guard reviewer.role == .compliance else {
            throw BreakGlassError(.notPermitted, "only compliance accounts review break-glass")
        }
        let name = try SecondFactor.canonical(reviewer.username)
        let notes = try Self.cleanNotes(notes)
        let now = now ?? clock.unixSeconds()

        return try BreakGlassError.transaction(database, "record a review") {
            guard var review = try load(grantID) else {
                throw BreakGlassError(.notFound, "no break-glass grant has this id")
            }
            guard review.grant.holder != name else {
                throw BreakGlassError(.selfReview, "nobody reviews their own break-glass grant")
            }
            guard review.status != .completed else {
                throw BreakGlassError(.alreadyReviewed, "this grant has already been reviewed")
            }
            let decision = ReviewDecision(
                sequence: review.decisions.count + 1, reviewer: name, disposition: disposition,
                notes: notes, decidedAt: now)
            let status: ReviewStatus = disposition == .needsFollowUp ? .needsFollowUp : .completed
            try database.run(
                "INSERT INTO break_glass_review_decisions(grant_id, sequence, reviewer, "
                    + "disposition, notes, decided_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(review.grantID), .int(decision.sequence), .text(name),
                    .text(disposition.rawValue), .text(notes), .integer(now),
                ])
            try database.run(
                "UPDATE break_glass_reviews SET status = ? WHERE grant_id = ?",
                [.text(status.rawValue), .text(review.grantID)])
            review.status = status
            review.decisions.append(decision)
            try BreakGlassError.runHook(within, review)
            return review
        }
    }

    /// Pending reviews whose deadline has passed at `now` and whose overdue alert has not
    /// been claimed, the oldest deadline first. Claim each with
    /// ``markOverdueNotified(_:now:within:)`` before alerting.
    public func overdue(now: Int64? = nil, limit: Int = 100) throws(BreakGlassError) -> [Review] {
        let now = now ?? clock.unixSeconds()
        return try BreakGlassError.translating("list overdue reviews") {
            try loadMany(
                "WHERE r.status = 'pending' AND r.due_at <= ?1 "
                    + "AND r.overdue_notified_at IS NULL ORDER BY r.due_at, g.id LIMIT ?2",
                [.integer(now), .int(min(max(limit, 1), 1000))])
        }
    }

    /// Claims the overdue alert of a grant's review: true (after running `within` in the
    /// same transaction, where the App queues the review.overdue alert) for exactly one
    /// caller; false when it was claimed before, the review is no longer pending, or it is
    /// not yet due. Throws a `BreakGlassError`, or what `within` threw, unchanged (and the
    /// claim is then rolled back, so a later call claims it again).
    @discardableResult
    public func markOverdueNotified(
        _ grantID: String, now: Int64? = nil, within: (Review) throws -> Void = { _ in }
    ) throws -> Bool {
        let now = now ?? clock.unixSeconds()
        return try BreakGlassError.transaction(database, "claim an overdue review") {
            try database.run(
                "UPDATE break_glass_reviews SET overdue_notified_at = ? WHERE grant_id = ? "
                    + "AND status = 'pending' AND due_at <= ? AND overdue_notified_at IS NULL",
                [.integer(now), .text(grantID), .integer(now)])
            guard database.changes == 1, let review = try load(grantID) else {
                return false
            }
            try BreakGlassError.runHook(within, review)
            return true
        }
    }

    // MARK: - Loading

    private func load(_ grantID: String) throws -> Review? {
        guard GrantStore.isWellFormedID(grantID) else {
            return nil
        }
        return try loadMany("WHERE g.id = ?1", [.text(grantID)]).first
    }

    /// Reviews matching `clause` (a WHERE clause and ordering over `g` and `r`), each with
    /// its decisions.
    private func loadMany(_ clause: String, _ values: [SQLiteValue]) throws -> [Review] {
        let sql = """
            SELECT g.id, g.holder, g.patient_id, g.reason, g.justification,
                g.second_factor_step, g.created_at, g.expires_at, g.ended_at, g.ended_by,
                r.status, r.due_at, r.overdue_notified_at
            FROM break_glass_reviews r JOIN break_glass_grants g ON g.id = r.grant_id
            """
        var reviews = try database.query(sql + " " + clause, values) { row in
            guard let status = ReviewStatus(rawValue: row.text(at: 10) ?? "") else {
                throw BreakGlassError.storage("a review row holds an unknown status")
            }
            return Review(
                grant: try GrantStore.grant(from: row), status: status, dueAt: row.int64(at: 11),
                overdueNotifiedAt: row.isNull(at: 12) ? nil : row.int64(at: 12))
        }
        for index in reviews.indices where reviews[index].status != .pending {
            reviews[index].decisions = try decisions(of: reviews[index].grantID)
        }
        return reviews
    }

    private func decisions(of grantID: String) throws -> [ReviewDecision] {
        try database.query(
            "SELECT sequence, reviewer, disposition, notes, decided_at "
                + "FROM break_glass_review_decisions WHERE grant_id = ? ORDER BY sequence",
            [.text(grantID)]
        ) { row in
            guard let disposition = Disposition(rawValue: row.text(at: 2) ?? "") else {
                throw BreakGlassError.storage("a review decision holds an unknown disposition")
            }
            return ReviewDecision(
                sequence: row.int(at: 0), reviewer: row.text(at: 1) ?? "",
                disposition: disposition, notes: row.text(at: 3) ?? "",
                decidedAt: row.int64(at: 4))
        }
    }

    private static func cleanNotes(_ raw: String) throws(BreakGlassError) -> String {
        switch FreeText.cleaned(raw, minimum: 0, maximum: BreakGlassPolicy.notesMaximum) {
        case .success(let text):
            return text
        case .failure(.forbiddenCharacter):
            throw BreakGlassError(
                .invalidNotes, "review notes hold no control characters other than line feeds")
        case .failure:
            throw BreakGlassError(
                .invalidNotes,
                "review notes have at most \(BreakGlassPolicy.notesMaximum) characters")
        }
    }
}
