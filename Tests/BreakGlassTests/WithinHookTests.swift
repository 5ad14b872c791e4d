import Policy
import Store
import Testing

@testable import BreakGlass

@Suite("The within hook shares the store's transaction")
struct WithinHookTests {
    typealias F = BreakGlassFixture
    let t0 = F.t0

    /// A fixture with an outbox table standing in for the App's alert outbox.
    func fixture() throws -> F {
        let fixture = try F()
        try fixture.database.execute("CREATE TABLE test_outbox(event TEXT NOT NULL, ref TEXT)")
        return fixture
    }

    func enqueue(_ fixture: F, _ event: String, _ ref: String) throws {
        try fixture.database.run(
            "INSERT INTO test_outbox(event, ref) VALUES (?, ?)", [.text(event), .text(ref)])
    }

    func outbox(_ fixture: F) throws -> [String] {
        try fixture.database.query("SELECT event FROM test_outbox ORDER BY rowid") {
            $0.text(at: 0) ?? ""
        }
    }

    @Test("activation commits the hook's rows with the grant, or neither")
    func activation() throws {
        let fixture = try fixture()
        let grant = try fixture.grants.activate(
            F.request("pat-1"), holder: F.alice, secondFactorStep: 1, now: t0
        ) { grant in
            #expect(fixture.database.isInTransaction)
            try enqueue(fixture, "break_glass.activated", grant.id)
        }
        #expect(try outbox(fixture) == ["break_glass.activated"])
        #expect(try fixture.grants.grant(grant.id) != nil)

        let error = try #require(throws: HookError.self) {
            try fixture.grants.activate(
                F.request("pat-2"), holder: F.alice, secondFactorStep: 2, now: t0
            ) { grant in
                try enqueue(fixture, "break_glass.activated", grant.id)
                throw HookError(label: "outbox full")
            }
        }
        #expect(error == HookError(label: "outbox full"))
        #expect(try outbox(fixture) == ["break_glass.activated"])
        #expect(try fixture.count("break_glass_grants") == 1)
        #expect(try fixture.count("break_glass_reviews") == 1)
        #expect(try fixture.grants.active(holder: "alice", now: t0).map(\.id) == [grant.id])
        #expect(!fixture.database.isInTransaction)
    }

    @Test("a failing hook leaves the grant active when ending it")
    func ending() throws {
        let fixture = try fixture()
        let grant = try fixture.activate("pat-1")
        #expect(throws: HookError.self) {
            try fixture.grants.end(grant.id, by: F.alice, now: t0 + 5) { ended in
                #expect(ended.endedAt == t0 + 5)
                try enqueue(fixture, "break_glass.ended", ended.id)
                throw HookError(label: "end")
            }
        }
        #expect(try fixture.grants.grant(grant.id)?.status(at: t0 + 6) == .active)
        #expect(try outbox(fixture).isEmpty)
        try fixture.grants.end(grant.id, by: F.alice, now: t0 + 7) { ended in
            try enqueue(fixture, "break_glass.ended", ended.id)
        }
        #expect(try outbox(fixture) == ["break_glass.ended"])
        #expect(try fixture.grants.grant(grant.id)?.endedAt == t0 + 7)
    }

    @Test("a failing hook leaves the review undecided")
    func review() throws {
        let fixture = try fixture()
        let grant = try fixture.activate("pat-1")
        #expect(throws: HookError.self) {
            try fixture.reviews.review(
                grant.id, reviewer: F.carol, disposition: .unjustified, notes: "", now: t0
            ) { review in
                #expect(review.status == .completed && review.decisions.count == 1)
                try enqueue(fixture, "review.completed", review.grantID)
                throw HookError(label: "review")
            }
        }
        #expect(try fixture.reviews.review(for: grant.id)?.status == .pending)
        #expect(try fixture.count("break_glass_review_decisions") == 0)
        #expect(try outbox(fixture).isEmpty)
    }

    @Test("a failing hook leaves the overdue alert unclaimed")
    func overdue() throws {
        let fixture = try fixture()
        let grant = try fixture.activate("pat-1")
        let due = t0 + 72 * 3600
        #expect(throws: HookError.self) {
            try fixture.reviews.markOverdueNotified(grant.id, now: due) { review in
                try enqueue(fixture, "review.overdue", review.grantID)
                throw HookError(label: "overdue")
            }
        }
        #expect(try fixture.reviews.overdue(now: due).map(\.grantID) == [grant.id])
        #expect(
            try fixture.reviews.markOverdueNotified(grant.id, now: due) { review in
                try enqueue(fixture, "review.overdue", review.grantID)
            })
        #expect(try outbox(fixture) == ["review.overdue"])
    }
}
