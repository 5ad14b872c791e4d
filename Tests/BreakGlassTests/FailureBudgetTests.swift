import Auth
import Store
import Testing

@testable import BreakGlass

@Suite("Second factor: failure budget and lockout")
struct FailureBudgetTests {
    typealias F = BreakGlassFixture
    let t0 = F.t0
    /// Two steps ahead: never accepted at t0.
    static let wrong = F.code(at: F.t0, offset: 2)

    /// Successive lockout levels and their length with the default policy.
    static let levels: [(Int, Int64)] = [
        (0, 300), (1, 300), (2, 600), (3, 1200), (4, 2400), (5, 3600), (6, 3600), (60, 3600),
    ]

    @Test("lockouts double from five minutes to an hour", arguments: levels)
    func lockoutLengths(level: Int, seconds: Int64) {
        #expect(SecondFactorPolicy().lockoutSeconds(level: level) == seconds)
    }

    /// Throws the error of one wrong code at `now`.
    func fail(_ factor: SecondFactor, at now: Int64) throws -> BreakGlassError {
        try #require(throws: BreakGlassError.self) {
            try factor.verify("alice", code: F.code(at: now, offset: 2), now: now)
        }
    }

    @Test("five wrong codes lock the factor; each later lockout is twice as long")
    func lockout() throws {
        let fixture = try F()
        var now = t0
        var lengths: [Int64] = []
        for _ in 0..<3 {
            for attempt in 1...5 {
                let error = try fail(fixture.factor, at: now)
                #expect(error.code == .wrongCode)
                #expect(error.lockoutStarted == (attempt == 5))
                if attempt == 5 {
                    let until = try #require(error.lockedUntil)
                    lengths.append(until - now)
                    let locked = try #require(throws: BreakGlassError.self) {
                        try fixture.factor.verify("alice", code: F.code(at: now), now: now)
                    }
                    #expect(locked.code == .factorLocked && locked.lockedUntil == until)
                    #expect(!locked.lockoutStarted)
                    #expect(try fixture.factor.lockedUntil(of: "alice", now: until - 1) == until)
                    #expect(try fixture.factor.lockedUntil(of: "alice", now: until) == nil)
                    now = until
                } else {
                    #expect(error.lockedUntil == nil)
                    now += 10
                }
            }
        }
        #expect(lengths == [300, 600, 1200])
    }

    @Test("a success resets the count and the doubling")
    func successResets() throws {
        let fixture = try F()
        var now = t0
        for _ in 1...4 {
            _ = try fail(fixture.factor, at: now)
            now += 1
        }
        try fixture.factor.verify("alice", code: F.code(at: now), now: now)
        for _ in 1...4 {
            #expect(try fail(fixture.factor, at: now).lockedUntil == nil)
            now += 1
        }
        let fifth = try fail(fixture.factor, at: now)
        #expect(fifth.lockedUntil == now + 300)

        now += 300
        now += 30  // a fresh step, newer than the one accepted above
        try fixture.factor.verify("alice", code: F.code(at: now), now: now)
        for _ in 1...4 {
            _ = try fail(fixture.factor, at: now)
        }
        #expect(try fail(fixture.factor, at: now).lockedUntil == now + 300)
    }

    @Test("failures older than the window do not count")
    func window() throws {
        let fixture = try F()
        for offset in 0..<4 {
            _ = try fail(fixture.factor, at: t0 + Int64(offset))
        }
        // At t0 + 902 the window is (t0 + 2, t0 + 902]: only the failure at t0 + 3 counts.
        let late = t0 + 902
        for _ in 1...3 {
            #expect(try fail(fixture.factor, at: late).lockedUntil == nil)
        }
        #expect(try fail(fixture.factor, at: late).lockedUntil == late + 300)
    }

    @Test("replayed codes count as failures")
    func replaysCount() throws {
        let fixture = try F()
        try fixture.factor.verify("alice", code: F.code(at: t0), now: t0)
        for attempt in 1...5 {
            let error = try #require(throws: BreakGlassError.self) {
                try fixture.factor.verify("alice", code: F.code(at: t0), now: t0 + 1)
            }
            #expect(error.code == .replayed)
            #expect(error.lockoutStarted == (attempt == 5))
        }
    }

    @Test("the budget is durable, shared by connections, and per account")
    func durable() throws {
        let fixture = try F()
        for _ in 1...3 {
            _ = try fail(fixture.factor, at: t0)
        }
        let other = try fixture.reopenFactor()
        _ = try fail(other, at: t0)
        let error = try fail(other, at: t0)
        #expect(error.lockedUntil == t0 + 300)
        let locked = try #require(throws: BreakGlassError.self) {
            try fixture.factor.verify("alice", code: F.code(at: t0), now: t0)
        }
        #expect(locked.code == .factorLocked)
        #expect(try fixture.factor.verify("bob", code: F.code(at: t0), now: t0) == 60_000_000)

        #expect(try fixture.factor.unlock("alice", now: t0))
        #expect(try !fixture.factor.unlock("alice", now: t0))
        #expect(try fixture.factor.verify("alice", code: F.code(at: t0), now: t0) == 60_000_000)
    }

    @Test("a custom policy is honoured, an invalid one refused")
    func policy() throws {
        var policy = SecondFactorPolicy()
        policy.maxFailures = 2
        policy.firstLockoutSeconds = 60
        let fixture = try F(factorPolicy: policy)
        #expect(try fail(fixture.factor, at: t0).lockedUntil == nil)
        #expect(try fail(fixture.factor, at: t0).lockedUntil == t0 + 60)

        var invalid = SecondFactorPolicy()
        invalid.maximumLockoutSeconds = 10
        let error = try #require(throws: BreakGlassError.self) { try invalid.validate() }
        #expect(error.code == .invalidPolicy)
    }
}
