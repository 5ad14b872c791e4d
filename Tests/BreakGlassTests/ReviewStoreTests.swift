import Policy
import Testing

@testable import BreakGlass

@Suite("Reviews: queue, dispositions and overdue alerts")
struct ReviewStoreTests {
    typealias F = BreakGlassFixture
    let t0 = F.t0

    @Test("every activated grant is pending review, oldest deadline first")
    func pendingAfterActivation() throws {
        let fixture = try F()
        #expect(try fixture.reviews.pending().isEmpty)
        let first = try fixture.activate("pat-1", at: t0)
        let second = try fixture.activate("pat-2", holder: F.bob, at: t0 + 5)
        let pending = try fixture.reviews.pending()
        #expect(pending.map(\.grantID) == [first.id, second.id])
        #expect(pending.map(\.dueAt) == [t0 + 259_200, t0 + 259_205])
        #expect(pending.allSatisfy { $0.status == .pending && $0.decisions.isEmpty })
        #expect(try fixture.reviews.list(status: nil).count == 2)
        #expect(try fixture.reviews.list(status: .completed).isEmpty)
    }

    /// Reviewers who may not review alice's grant, and the error.
    static let refused: [(String, Role, BreakGlassError.Code)] = [
        ("bob", .clinician, .notPermitted),
        ("rita", .registrar, .notPermitted),
        ("sam", .securityAdmin, .notPermitted),
        ("eddie", .ehrSystem, .notPermitted),
        ("alice", .clinician, .notPermitted),
        // Roles make this impossible today; the store refuses it all the same.
        ("alice", .compliance, .selfReview),
        (" ALICE ", .compliance, .selfReview),
    ]

    @Test("only compliance reviews, and never their own grant", arguments: refused)
    func refusedReviewer(name: String, role: Role, expected: BreakGlassError.Code) throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        let error = try #require(throws: BreakGlassError.self) {
            try fixture.reviews.review(
                grant.id, reviewer: F.principal(name, role), disposition: .justified,
                notes: "", now: t0 + 60)
        }
        #expect(error.code == expected)
        #expect(try fixture.reviews.review(for: grant.id)?.status == .pending)
        #expect(try fixture.count("break_glass_review_decisions") == 0)
    }

    /// Decisions taken in order, and for each the resulting status, or the error code.
    static let sequences: [([Disposition], [String])] = [
        ([.justified], ["completed"]),
        ([.unjustified], ["completed"]),
        ([.needsFollowUp], ["needs-follow-up"]),
        ([.justified, .unjustified], ["completed", "already_reviewed"]),
        ([.unjustified, .needsFollowUp], ["completed", "already_reviewed"]),
        (
            [.needsFollowUp, .justified, .justified],
            ["needs-follow-up", "completed", "already_reviewed"]
        ),
        (
            [.needsFollowUp, .needsFollowUp, .unjustified],
            ["needs-follow-up", "needs-follow-up", "completed"]
        ),
    ]

    @Test("a review closes with its first final decision", arguments: sequences)
    func dispositions(decisions: [Disposition], expected: [String]) throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        var outcomes: [String] = []
        var recorded: [Disposition] = []
        for (index, disposition) in decisions.enumerated() {
            let reviewer = F.principal(index % 2 == 0 ? "carol" : "dave", .compliance)
            do {
                let review = try fixture.reviews.review(
                    grant.id, reviewer: reviewer, disposition: disposition,
                    notes: "decision \(index + 1)", now: t0 + Int64(index))
                outcomes.append(review.status.rawValue)
                recorded.append(disposition)
            } catch let error as BreakGlassError {
                outcomes.append(error.code.name)
            }
        }
        #expect(outcomes == expected)
        let stored = try #require(try fixture.reviews.review(for: grant.id))
        #expect(stored.decisions.map(\.disposition) == recorded)
        #expect(stored.decisions.map(\.sequence) == Array(1..<(recorded.count + 1)))
        let reviewers = ["carol", "dave", "carol"].prefix(recorded.count)
        #expect(stored.decisions.map(\.reviewer) == Array(reviewers))
        #expect(stored.latest?.notes == "decision \(recorded.count)")
        #expect(stored.latest?.decidedAt == t0 + Int64(recorded.count - 1))
        #expect(stored.status.rawValue == expected.last(where: { !$0.contains("_") }))
        #expect(try fixture.reviews.list(status: stored.status).map(\.grantID) == [grant.id])
    }

    @Test("a decision records the reviewer, the notes as written, and the time")
    func decision() throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        let review = try fixture.reviews.review(
            grant.id, reviewer: F.principal(" Carol", .compliance), disposition: .unjustified,
            notes: "  Spoke to the holder.\nNo emergency on record.  ", now: t0 + 100)
        #expect(
            review.decisions == [
                ReviewDecision(
                    sequence: 1, reviewer: "carol", disposition: .unjustified,
                    notes: "Spoke to the holder.\nNo emergency on record.", decidedAt: t0 + 100)
            ])
        #expect(try fixture.reviews.review(for: grant.id) == review)
        #expect(try fixture.reviews.pending().isEmpty)
        #expect(!"\(review)".contains("Spoke") && !"\(review)".contains("pat-1"))
        #expect("\(review)".contains("unjustified"))
    }

    /// Notes, and whether they are accepted.
    static let notes: [(String, BreakGlassError.Code?)] = [
        ("", nil),
        ("   ", nil),
        (String(repeating: "n", count: 4000), nil),
        (String(repeating: "n", count: 4001), .invalidNotes),
        ("line one\nline two", nil),
        ("tab\there", .invalidNotes),
        ("bell\u{7}", .invalidNotes),
        ("isolate \u{2066}x\u{2069}", .invalidNotes),
    ]

    @Test("notes are 0 to 4000 characters without control characters", arguments: notes)
    func notesRules(text: String, expected: BreakGlassError.Code?) throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        let review = {
            try fixture.reviews.review(
                grant.id, reviewer: F.carol, disposition: .justified, notes: text, now: t0)
        }
        if let expected {
            let error = try #require(throws: BreakGlassError.self) { try review() }
            #expect(error.code == expected)
        } else {
            #expect(try review().status == .completed)
        }
    }

    @Test("reviewing an unknown grant is not found")
    func unknownGrant() throws {
        let fixture = try F()
        for id in ["bg_AAAAAAAAAAAAAAAAAAAAAA", "x"] {
            let error = try #require(throws: BreakGlassError.self) {
                try fixture.reviews.review(
                    id, reviewer: F.carol, disposition: .justified, notes: "", now: t0)
            }
            #expect(error.code == .notFound)
            #expect(try fixture.reviews.review(for: id) == nil)
        }
    }

    @Test("an overdue review is reported until its alert is claimed, once")
    func overdueOnce() throws {
        let fixture = try F()
        let late = try fixture.activate("pat-1", at: t0)
        let reviewed = try fixture.activate("pat-2", at: t0 + 1)
        let parked = try fixture.activate("pat-3", at: t0 + 2)
        let recent = try fixture.activate("pat-1", holder: F.bob, at: t0 + 3600)
        try fixture.reviews.review(
            reviewed.id, reviewer: F.carol, disposition: .justified, notes: "", now: t0 + 10)
        try fixture.reviews.review(
            parked.id, reviewer: F.carol, disposition: .needsFollowUp, notes: "", now: t0 + 10)
        let due = t0 + 72 * 3600

        #expect(try fixture.reviews.overdue(now: due - 1).isEmpty)
        #expect(try !fixture.reviews.markOverdueNotified(late.id, now: due - 1))
        let overdue = try fixture.reviews.overdue(now: due)
        #expect(overdue.map(\.grantID) == [late.id])
        #expect(overdue.first?.isOverdue(at: due) == true)

        var alerted: [String] = []
        let record: (Review) -> Void = { alerted.append($0.grantID) }
        #expect(try fixture.reviews.markOverdueNotified(late.id, now: due, within: record))
        #expect(try !fixture.reviews.markOverdueNotified(late.id, now: due + 1, within: record))
        #expect(alerted == [late.id])
        #expect(try fixture.reviews.review(for: late.id)?.overdueNotifiedAt == due)
        #expect(try fixture.reviews.overdue(now: due + 7 * 86_400).map(\.grantID) == [recent.id])
        #expect(try !fixture.reviews.markOverdueNotified(reviewed.id, now: due + 86_400))
        #expect(try !fixture.reviews.markOverdueNotified(parked.id, now: due + 86_400))
    }
}
