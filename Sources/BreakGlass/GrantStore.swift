import Crypto
import Policy
import Store
import Support

/// Break-glass grants: activation, ending, and the lookups the policy and the API need.
///
/// Every grant enters the review queue (``ReviewStore``) in the transaction that creates it.
/// The mutating methods take a `within` hook that runs inside that same transaction, after
/// the rows are written: the App writes its audit and alert outbox rows there, through
/// ``database``, so a grant never exists without its alert nor an alert without its grant.
/// If the hook throws, everything is rolled back and its error reaches the caller unchanged.
///
/// Threading: like its `Database`, one thread at a time; not `Sendable`. Checks and writes
/// run in one `BEGIN IMMEDIATE` transaction, so limits hold across connections.
public final class GrantStore {
    /// The records database the tables live in.
    public let database: Database
    /// The limits applied at activation.
    public let policy: BreakGlassPolicy
    /// The time used when a method is not given `now`.
    public let clock: WallClock

    /// The prefix of every grant id.
    public static let idPrefix = "bg_"
    static let idRandomBytes = 16

    /// Opens the store over `database`, creating or migrating the break-glass tables when it
    /// is writable. Throws `.invalidPolicy` for a policy out of range, `.storage` otherwise.
    public init(
        database: Database, policy: BreakGlassPolicy = BreakGlassPolicy(),
        clock: WallClock = WallClock()
    ) throws(BreakGlassError) {
        try policy.validate()
        try BreakGlassSchema.prepare(database)
        self.database = database
        self.policy = policy
        self.clock = clock
    }

    /// Checks everything ``activate(_:holder:secondFactorStep:now:within:)`` would, without
    /// writing: call it before verifying the second factor, so that a request refused for
    /// its body or the caller's limits does not use up the user's code.
    public func precheck(
        _ request: ActivationRequest, holder: Principal, now: Int64? = nil
    ) throws(BreakGlassError) {
        let valid = try request.validated(for: holder, policy: policy)
        let now = now ?? clock.unixSeconds()
        try BreakGlassError.translating("check break-glass limits") {
            try checkLimits(valid, now: now)
        }
    }

    /// Creates a grant for `holder` and queues its review, then runs `within`, all in one
    /// transaction; returns the grant.
    ///
    /// The caller must have verified the holder's second factor for this request
    /// (``SecondFactor/verify(_:code:now:)``) and passes the accepted step, which is kept
    /// with the grant as evidence. The request is checked as described in
    /// ``ActivationRequest``; then, against the stored grants, an active grant of the same
    /// holder for the same patient is `.alreadyActive` with that grant's id (the grant is not
    /// extended: a longer need is a new decision with its own justification, taken after
    /// ending the first), and holding `maxActivePerUser` active grants is
    /// `.tooManyActiveGrants`.
    ///
    /// Throws a `BreakGlassError`, or what `within` threw, unchanged.
    @discardableResult
    public func activate(
        _ request: ActivationRequest, holder: Principal, secondFactorStep: UInt64,
        now: Int64? = nil, within: (Grant) throws -> Void = { _ in }
    ) throws -> Grant {
        let valid = try request.validated(for: holder, policy: policy)
        let now = now ?? clock.unixSeconds()
        // Steps come from `SecondFactor.verify`, which never accepts one past Int64.max.
        guard let step = Int64(exactly: secondFactorStep) else {
            preconditionFailure("a second-factor step beyond any clock")
        }
        let grant = Grant(
            id: Self.newID(), holder: valid.holder, patientID: valid.patientID,
            reason: valid.reason, justification: valid.justification,
            secondFactorStep: secondFactorStep, createdAt: now,
            expiresAt: now + valid.durationSeconds)

        return try BreakGlassError.transaction(database, "activate break-glass") {
            try checkLimits(valid, now: now)
            try database.run(
                "INSERT INTO break_glass_grants(id, holder, patient_id, reason, justification, "
                    + "second_factor_step, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(grant.id), .text(grant.holder), .text(grant.patientID),
                    .text(grant.reason.rawValue), .text(grant.justification), .integer(step),
                    .integer(grant.createdAt), .integer(grant.expiresAt),
                ])
            try database.run(
                "INSERT INTO break_glass_reviews(grant_id, status, due_at) VALUES (?, ?, ?)",
                [
                    .text(grant.id), .text(ReviewStatus.pending.rawValue),
                    .integer(now + policy.reviewDeadlineSeconds),
                ])
            try BreakGlassError.runHook(within, grant)
            return grant
        }
    }

    /// Ends an active grant early and runs `within` in the same transaction; returns the
    /// ended grant.
    ///
    /// The holder may end their own grant and a security administrator any grant; anyone
    /// else gets `.notPermitted`. An unknown id is `.notFound`; a grant already ended or
    /// expired at `now` is `.notActive`. The review stays queued: ending a grant does not
    /// excuse it. Throws a `BreakGlassError`, or what `within` threw, unchanged.
    @discardableResult
    public func end(
        _ id: String, by principal: Principal, now: Int64? = nil,
        within: (Grant) throws -> Void = { _ in }
    ) throws -> Grant {
        let name = try SecondFactor.canonical(principal.username)
        let now = now ?? clock.unixSeconds()
        return try BreakGlassError.transaction(database, "end break-glass") {
            guard var grant = try load(id) else {
                throw BreakGlassError(.notFound, "no break-glass grant has this id")
            }
            guard grant.holder == name || principal.role == .securityAdmin else {
                throw BreakGlassError(
                    .notPermitted,
                    "only the grant's holder or a security administrator may end it")
            }
            guard grant.status(at: now) == .active else {
                throw BreakGlassError(.notActive, "the grant has already ended or expired")
            }
            guard try markEnded(&grant, by: name, now: now) else {
                throw BreakGlassError(.notActive, "the grant has already ended or expired")
            }
            try BreakGlassError.runHook(within, grant)
            return grant
        }
    }

    /// Ends every grant of `holder` active at `now`, recording `endedBy` (for instance the
    /// command line's operator) as who ended them, and runs `within` once per ended grant;
    /// all in one transaction. Returns the ended grants, oldest first.
    ///
    /// For an account being disabled: its grants must not outlive it. Throws a
    /// `BreakGlassError`, or what `within` threw, unchanged; nothing is ended then.
    @discardableResult
    public func endActive(
        holder: String, endedBy: String, now: Int64? = nil,
        within: (Grant) throws -> Void = { _ in }
    ) throws -> [Grant] {
        let now = now ?? clock.unixSeconds()
        return try BreakGlassError.transaction(database, "end a holder's break-glass grants") {
            var ended: [Grant] = []
            for var grant in try active(holder: holder, now: now)
            where try markEnded(&grant, by: endedBy, now: now) {
                try BreakGlassError.runHook(within, grant)
                ended.append(grant)
            }
            return ended
        }
    }

    /// Records `grant` as ended at `now` by `endedBy`, in the caller's transaction, unless it
    /// ended or expired meanwhile; false then, and `grant` is left as it was.
    private func markEnded(_ grant: inout Grant, by endedBy: String, now: Int64) throws -> Bool {
        try database.run(
            "UPDATE break_glass_grants SET ended_at = ?, ended_by = ? "
                + "WHERE id = ? AND ended_at IS NULL AND expires_at > ?",
            [.integer(now), .text(endedBy), .text(grant.id), .integer(now)])
        guard database.changes == 1 else { return false }
        grant.endedAt = now
        grant.endedBy = endedBy
        return true
    }

    /// Whether `id` has the shape of a grant id: "bg_" and the unpadded base64url of 16 bytes.
    /// The App checks an `X-Break-Glass` header with this before any lookup.
    public static func isWellFormedID(_ id: String) -> Bool {
        guard id.utf8.count == idPrefix.utf8.count + 22, id.hasPrefix(idPrefix) else {
            return false
        }
        return Base64URL.decode(String(id.dropFirst(idPrefix.count)))?.count == idRandomBytes
    }

    static func newID() -> String {
        idPrefix + Base64URL.encode(SecureRandom.bytes(idRandomBytes))
    }

    /// The activation limits against the stored grants; runs inside the caller's transaction
    /// or as plain reads for ``precheck(_:holder:now:)``.
    private func checkLimits(_ valid: ActivationRequest.Validated, now: Int64) throws {
        let active = try database.query(
            "SELECT id, patient_id FROM break_glass_grants "
                + "WHERE holder = ? AND ended_at IS NULL AND expires_at > ? ORDER BY created_at",
            [.text(valid.holder), .integer(now)]
        ) { (id: $0.text(at: 0) ?? "", patientID: $0.text(at: 1) ?? "") }
        if let same = active.first(where: { $0.patientID == valid.patientID }) {
            throw BreakGlassError.alreadyActive(same.id)
        }
        guard active.count < policy.maxActivePerUser else {
            throw BreakGlassError(
                .tooManyActiveGrants,
                "at most \(policy.maxActivePerUser) break-glass grants may be active at once; "
                    + "end one first")
        }
    }
}
