import Crypto
import Policy
import Store
import Testing

@testable import BreakGlass

@Suite("Grants: activation, limits, ending and evidence")
struct GrantStoreTests {
    typealias F = BreakGlassFixture
    let t0 = F.t0

    @Test("activation stores the grant and queues its review")
    func activation() throws {
        let fixture = try F()
        var request = F.request("pat-7")
        request.justification = "  Found collapsed; needs allergy history before surgery.\n"
        let grant = try fixture.grants.activate(
            request, holder: F.principal(" Alice ", .clinician), secondFactorStep: 60_000_000,
            now: t0)
        #expect(GrantStore.isWellFormedID(grant.id))
        #expect(
            grant
                == Grant(
                    id: grant.id, holder: "alice", patientID: "pat-7", reason: .emergencyTreatment,
                    justification: "Found collapsed; needs allergy history before surgery.",
                    secondFactorStep: 60_000_000, createdAt: t0, expiresAt: t0 + 3600))
        #expect(try fixture.grants.grant(grant.id) == grant)
        #expect(!grant.description.contains("pat-7") && !grant.description.contains("allergy"))
        let review = try #require(try fixture.reviews.review(for: grant.id))
        #expect(review.status == .pending && review.dueAt == t0 + 72 * 3600)
        #expect(review.grant == grant && review.decisions.isEmpty)
    }

    @Test("grant ids are unique and well formed")
    func ids() throws {
        let fixture = try F(policy: BreakGlassPolicy(maxActivePerUser: 20))
        var ids = Set<String>()
        for index in 0..<20 {
            let id = try fixture.activate("pat-\(index)").id
            #expect(id.hasPrefix("bg_") && id.utf8.count == 25)
            #expect(Base64URL.decode(String(id.dropFirst(3)))?.count == 16)
            ids.insert(id)
        }
        #expect(ids.count == 20)
    }

    /// Ids a request might name, and whether they have a grant id's shape.
    static let idShapes: [(String, Bool)] = [
        ("bg_AAAAAAAAAAAAAAAAAAAAAA", true),
        ("bg_AAAAAAAAAAAAAAAAAAAAA", false),
        ("bg_AAAAAAAAAAAAAAAAAAAAAAA", false),
        ("bx_AAAAAAAAAAAAAAAAAAAAAA", false),
        ("bg_AAAAAAAAAAAAAAAAAAAAA=", false),
        ("bg_AAAAAAAAAAAAAAAAAAAA+A", false),
        ("bg_AAAAAAAAAAAAAAAAAAAAAB", false),  // non-zero unused bits
        ("", false),
        ("' OR 1=1 --", false),
    ]

    @Test("grant id shapes", arguments: idShapes)
    func idShape(id: String, wellFormed: Bool) throws {
        #expect(GrantStore.isWellFormedID(id) == wellFormed)
        let fixture = try F()
        #expect(try fixture.grants.grant(id) == nil)
        #expect(try fixture.grants.evidence(id) == nil)
    }

    /// Seconds after activation, the status, and the policy's verdict for the holder.
    static let lifetime: [(Int64, Grant.Status, GrantEvidence.Check)] = [
        (0, .active, .valid), (1, .active, .valid), (3599, .active, .valid),
        (3600, .expired, .expired), (3601, .expired, .expired), (86_400, .expired, .expired),
    ]

    @Test("a grant expires at exactly expiresAt", arguments: lifetime)
    func expiry(after: Int64, status: Grant.Status, check: GrantEvidence.Check) throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        let now = t0 + after
        #expect(grant.status(at: now) == status)
        let evidence = try #require(try fixture.grants.evidence(grant.id))
        #expect(evidence.check(patientID: "pat-1", holder: "alice", now: now) == check)
        let active = try fixture.grants.active(holder: "alice", now: now).map(\.id)
        #expect(active == (status == .active ? [grant.id] : []))
    }

    @Test("evidence carries what the policy checks")
    func evidence() throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1", minutes: 30)
        let evidence = try #require(try fixture.grants.evidence(grant.id))
        #expect(
            evidence
                == GrantEvidence(
                    id: grant.id, holder: "alice", patientID: "pat-1", expiresAt: t0 + 1800,
                    revoked: false))
        #expect(evidence.check(patientID: "pat-2", holder: "alice", now: t0) == .wrongPatient)
        #expect(evidence.check(patientID: "pat-1", holder: "bob", now: t0) == .notHolder)

        try fixture.grants.end(grant.id, by: F.alice, now: t0 + 60)
        let ended = try #require(try fixture.grants.evidence(grant.id))
        #expect(ended.revoked)
        #expect(ended.check(patientID: "pat-1", holder: "alice", now: t0 + 61) == .revoked)
    }

    @Test("a holder has at most maxActivePerUser active grants")
    func tooMany() throws {
        let fixture = try F()
        let first = try fixture.activate("pat-1", at: t0, minutes: 10)
        try fixture.activate("pat-2", at: t0 + 1)
        try fixture.activate("pat-3", at: t0 + 2)
        let error = try #require(throws: BreakGlassError.self) {
            try fixture.activate("pat-4", at: t0 + 3)
        }
        #expect(error.code == .tooManyActiveGrants)
        let prechecked = try #require(throws: BreakGlassError.self) {
            try fixture.grants.precheck(F.request("pat-4"), holder: F.alice, now: t0 + 3)
        }
        #expect(prechecked.code == .tooManyActiveGrants)
        #expect(try fixture.activate("pat-4", holder: F.bob, at: t0 + 3).holder == "bob")

        // The 10-minute grant expires, which frees a place.
        #expect(try fixture.activate("pat-4", at: first.expiresAt).patientID == "pat-4")
        #expect(throws: BreakGlassError.self) { try fixture.activate("pat-5", at: first.expiresAt) }
        let pat2 = try #require(try fixture.grants.active(holder: "alice", now: t0 + 700).first)
        try fixture.grants.end(pat2.id, by: F.alice, now: t0 + 700)
        #expect(try fixture.activate("pat-5", at: t0 + 701).patientID == "pat-5")
    }

    @Test("a second grant for the same patient names the active one")
    func samePatient() throws {
        let fixture = try F()
        let first = try fixture.activate("pat-1")
        let error = try #require(throws: BreakGlassError.self) {
            try fixture.activate("pat-1", at: t0 + 60)
        }
        #expect(error.code == .alreadyActive && error.grantID == first.id)
        #expect(try fixture.count("break_glass_grants") == 1)
        #expect(try fixture.activate("pat-1", holder: F.bob, at: t0 + 60).holder == "bob")
        let renewed = try fixture.activate("pat-1", at: first.expiresAt)
        #expect(renewed.id != first.id)
    }

    /// Who ends alice's grant, when (seconds after activation), and the outcome.
    static let endings: [(String, Role, Int64, BreakGlassError.Code?)] = [
        ("alice", .clinician, 60, nil),
        ("sam", .securityAdmin, 60, nil),
        ("bob", .clinician, 60, .notPermitted),
        ("carol", .compliance, 60, .notPermitted),
        ("rita", .registrar, 60, .notPermitted),
        ("alice", .clinician, 3600, .notActive),
        ("sam", .securityAdmin, 3600, .notActive),
    ]

    @Test("the holder or a security admin ends an active grant", arguments: endings)
    func ending(name: String, role: Role, after: Int64, expected: BreakGlassError.Code?) throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        let now = t0 + after
        let ender = F.principal(name, role)
        if let expected {
            let error = try #require(throws: BreakGlassError.self) {
                try fixture.grants.end(grant.id, by: ender, now: now)
            }
            #expect(error.code == expected)
            #expect(try fixture.grants.grant(grant.id) == grant)
            return
        }
        let ended = try fixture.grants.end(grant.id, by: ender, now: now)
        #expect(ended.endedAt == now && ended.endedBy == name)
        #expect(ended.status(at: now) == .ended && ended.status(at: t0 + 9999) == .ended)
        #expect(try fixture.grants.grant(grant.id) == ended)
        #expect(try fixture.grants.active(now: now).isEmpty)
        let again = try #require(throws: BreakGlassError.self) {
            try fixture.grants.end(grant.id, by: ender, now: now + 1)
        }
        #expect(again.code == .notActive)
        #expect(try fixture.reviews.review(for: grant.id)?.status == .pending)
    }

    @Test("ending an unknown grant is not found")
    func endUnknown() throws {
        let fixture = try F()
        for id in ["bg_AAAAAAAAAAAAAAAAAAAAAA", "nonsense"] {
            let error = try #require(throws: BreakGlassError.self) {
                try fixture.grants.end(id, by: F.sam, now: t0)
            }
            #expect(error.code == .notFound)
        }
    }

    @Test("listings: active by holder or for everyone, all newest first")
    func listings() throws {
        let fixture = try F()
        let a1 = try fixture.activate("pat-1", at: t0, minutes: 5)
        let a2 = try fixture.activate("pat-2", at: t0 + 10)
        let b1 = try fixture.activate("pat-1", holder: F.bob, at: t0 + 20)
        let now = t0 + 400
        #expect(try fixture.grants.active(holder: "ALICE", now: now).map(\.id) == [a2.id])
        #expect(try fixture.grants.active(now: now).map(\.id) == [a2.id, b1.id])
        #expect(try fixture.grants.all(holder: "alice").map(\.id) == [a2.id, a1.id])
        #expect(try fixture.grants.all().map(\.id) == [b1.id, a2.id, a1.id])
        #expect(try fixture.grants.all(limit: 1).map(\.id) == [b1.id])
    }

    @Test("ending a holder's active grants leaves others' and finished ones alone")
    func endActiveOfHolder() throws {
        let fixture = try F()
        let short = try fixture.activate("pat-1", at: t0, minutes: 5)
        let a2 = try fixture.activate("pat-2", at: t0 + 10)
        let a3 = try fixture.activate("pat-3", at: t0 + 20)
        let bobs = try fixture.activate("pat-1", holder: F.bob, at: t0 + 30)
        try fixture.grants.end(a3.id, by: F.alice, now: t0 + 40)
        let now = t0 + 400
        var hooked: [String] = []
        let ended = try fixture.grants.endActive(holder: "Alice", endedBy: "cli:root", now: now) {
            hooked.append($0.id)
        }
        #expect(ended.map(\.id) == [a2.id] && hooked == [a2.id])
        #expect(ended.first?.endedBy == "cli:root" && ended.first?.endedAt == now)
        #expect(try fixture.grants.grant(a2.id)?.status(at: now) == .ended)
        #expect(try fixture.grants.grant(short.id)?.endedAt == nil)
        #expect(try fixture.grants.grant(a3.id)?.endedBy == "alice")
        #expect(try fixture.grants.active(now: now).map(\.id) == [bobs.id])
        #expect(try fixture.grants.endActive(holder: "alice", endedBy: "cli:root", now: now + 1).isEmpty)
    }

    @Test("a failing hook leaves the holder's grants active")
    func endActiveRollsBack() throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        let error = try #require(throws: HookError.self) {
            try fixture.grants.endActive(holder: "alice", endedBy: "cli:root", now: t0 + 60) { _ in
                throw HookError(label: "boom")
            }
        }
        #expect(error == HookError(label: "boom"))
        #expect(try fixture.grants.grant(grant.id) == grant)
    }

    @Test("stored grants cannot be deleted or rewritten")
    func immutable() throws {
        let fixture = try F()
        let grant = try fixture.activate("pat-1")
        let statements = [
            "DELETE FROM break_glass_grants",
            "UPDATE break_glass_grants SET expires_at = expires_at + 99999",
            "UPDATE break_glass_grants SET patient_id = 'pat-2'",
            "DELETE FROM break_glass_reviews",
        ]
        for sql in statements {
            #expect(throws: StoreError.self, "\(sql)") { try fixture.database.run(sql) }
        }
        try fixture.grants.end(grant.id, by: F.alice, now: t0 + 1)
        #expect(throws: StoreError.self) {
            try fixture.database.run(
                "UPDATE break_glass_grants SET ended_at = NULL, ended_by = NULL")
        }
        #expect(try fixture.grants.grant(grant.id)?.endedAt == t0 + 1)
    }
}
