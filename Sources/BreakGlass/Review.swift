/// What a compliance reviewer decided about a grant.
public enum Disposition: String, Sendable, CaseIterable {
    /// The access was warranted.
    case justified
    /// The access was not warranted; the App raises it for follow-up with the holder.
    case unjustified
    /// Not decidable yet (the reviewer is waiting for information); the review stays open
    /// and takes another decision later.
    case needsFollowUp = "needs-follow-up"
}

/// Where a grant's review stands.
public enum ReviewStatus: String, Sendable, CaseIterable {
    /// No decision yet.
    case pending
    /// The last decision was needs-follow-up; another one is expected.
    case needsFollowUp = "needs-follow-up"
    /// Closed with justified or unjustified.
    case completed
}

/// One decision in a grant's review. Decisions are kept for ever, in order.
public struct ReviewDecision: Sendable, Equatable {
    /// 1 for the first decision on the grant, then 2, ...
    public var sequence: Int
    /// The compliance reviewer's canonical name.
    public var reviewer: String
    public var disposition: Disposition
    /// The reviewer's notes (trimmed; may be empty).
    public var notes: String
    /// When the decision was recorded (Unix seconds).
    public var decidedAt: Int64

    public init(
        sequence: Int, reviewer: String, disposition: Disposition, notes: String,
        decidedAt: Int64
    ) {
        self.sequence = sequence
        self.reviewer = reviewer
        self.disposition = disposition
        self.notes = notes
        self.decidedAt = decidedAt
    }
}

/// A grant's place in the review queue: the grant, the deadline and the decisions so far.
public struct Review: Sendable, Equatable {
    /// The grant under review.
    public var grant: Grant
    public var status: ReviewStatus
    /// The review is overdue from this time (activation plus the policy's deadline then in
    /// force; a later change of policy does not move it).
    public var dueAt: Int64
    /// When the overdue alert was claimed, if it was.
    public var overdueNotifiedAt: Int64?
    /// The decisions in order, oldest first.
    public var decisions: [ReviewDecision]

    public init(
        grant: Grant, status: ReviewStatus, dueAt: Int64, overdueNotifiedAt: Int64? = nil,
        decisions: [ReviewDecision] = []
    ) {
        self.grant = grant
        self.status = status
        self.dueAt = dueAt
        self.overdueNotifiedAt = overdueNotifiedAt
        self.decisions = decisions
    }

    /// The id of the grant, which is also the review's id.
    public var grantID: String { grant.id }

    /// The newest decision, if any.
    public var latest: ReviewDecision? { decisions.last }

    /// True when no decision was taken and the deadline has passed at `now`.
    public func isOverdue(at now: Int64) -> Bool {
        status == .pending && now >= dueAt
    }
}

extension ReviewDecision: CustomStringConvertible {
    /// Everything but the notes, which may describe the patient.
    public var description: String {
        "ReviewDecision(\(sequence), reviewer: \(reviewer), \(disposition.rawValue), "
            + "at: \(decidedAt))"
    }
}
