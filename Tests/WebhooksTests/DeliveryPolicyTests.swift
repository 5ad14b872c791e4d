import Testing

@testable import Webhooks

@Suite("Delivery policy state machine")
struct DeliveryPolicyTests {
    /// The defaults: base 1 s, cap 10 min, 15 attempts, 24 h.
    static let policy = DeliveryPolicy()
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_800_000_000_000

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let attempts: Int
        let startedAt: Int64
        let outcome: AttemptOutcome
        let now: Int64
        let random: Double
        let expected: DeliveryDecision
        var testDescription: String { name }
    }

    static func status(_ code: Int, retryAfter: Int64? = nil) -> AttemptOutcome {
        .response(status: code, retryAfterSeconds: retryAfter)
    }

    static let cases: [Case] = [
        Case(
            name: "200 delivers", attempts: 1, startedAt: t0, outcome: status(200), now: t0,
            random: 0.5, expected: .delivered),
        Case(
            name: "204 delivers", attempts: 3, startedAt: t0, outcome: status(204), now: t0,
            random: 0.5, expected: .delivered),
        Case(
            name: "299 delivers", attempts: 1, startedAt: t0, outcome: status(299), now: t0,
            random: 0.5, expected: .delivered),
        Case(
            name: "2xx delivers even past the budget", attempts: 40, startedAt: t0,
            outcome: status(200), now: t0 + 2 * day, random: 0.5, expected: .delivered),
        Case(
            name: "410 is final and gone", attempts: 1, startedAt: t0, outcome: status(410),
            now: t0, random: 0.5, expected: .dead(.gone)),
        Case(
            name: "500 first failure: half of 1 s", attempts: 1, startedAt: t0,
            outcome: status(500), now: t0 + 10, random: 0.5, expected: .retry(at: t0 + 510)),
        Case(
            name: "500 third failure: half of 4 s", attempts: 3, startedAt: t0,
            outcome: status(500), now: t0, random: 0.5, expected: .retry(at: t0 + 2_000)),
        Case(
            name: "timeout with zero jitter retries now", attempts: 2, startedAt: t0,
            outcome: .failure(.timeout), now: t0 + 7, random: 0, expected: .retry(at: t0 + 7)),
        Case(
            name: "refused, jitter 0.999 of 8 s", attempts: 4, startedAt: t0,
            outcome: .failure(.connectionRefused), now: t0, random: 0.999,
            expected: .retry(at: t0 + 7_992)),
        Case(
            name: "ceiling capped at 10 min", attempts: 14, startedAt: t0,
            outcome: .failure(.network), now: t0, random: 1.0,
            expected: .retry(at: t0 + 600_000)),
        Case(
            name: "random above 1 is clamped", attempts: 1, startedAt: t0,
            outcome: status(503), now: t0, random: 7, expected: .retry(at: t0 + 1_000)),
        Case(
            name: "NaN jitter counts as 0", attempts: 1, startedAt: t0, outcome: status(503),
            now: t0, random: .nan, expected: .retry(at: t0)),
        Case(
            name: "15th failure is the last", attempts: 15, startedAt: t0,
            outcome: status(500), now: t0, random: 0.5, expected: .dead(.maximumAttempts)),
        Case(
            name: "failure at the deadline is final", attempts: 5, startedAt: t0,
            outcome: status(500), now: t0 + day, random: 0.5, expected: .dead(.maximumAge)),
        Case(
            name: "retry past the deadline moves to it", attempts: 12, startedAt: t0,
            outcome: status(500), now: t0 + day - 1_000, random: 1.0,
            expected: .retry(at: t0 + day)),
        Case(
            name: "429 Retry-After 30 s beats small jitter", attempts: 1, startedAt: t0,
            outcome: status(429, retryAfter: 30), now: t0, random: 0.5,
            expected: .retry(at: t0 + 30_000)),
        Case(
            name: "jitter beats a smaller Retry-After", attempts: 5, startedAt: t0,
            outcome: status(429, retryAfter: 1), now: t0, random: 0.5,
            expected: .retry(at: t0 + 8_000)),
        Case(
            name: "Retry-After capped at 10 min", attempts: 1, startedAt: t0,
            outcome: status(503, retryAfter: 100_000), now: t0, random: 0,
            expected: .retry(at: t0 + 600_000)),
        Case(
            name: "302 is a failure, never followed", attempts: 1, startedAt: t0,
            outcome: status(302), now: t0, random: 0.5, expected: .retry(at: t0 + 500)),
        Case(
            name: "404 is retried", attempts: 1, startedAt: t0, outcome: status(404), now: t0,
            random: 0.5, expected: .retry(at: t0 + 500)),
        Case(
            name: "400 is retried", attempts: 2, startedAt: t0, outcome: status(400), now: t0,
            random: 0.5, expected: .retry(at: t0 + 1_000)),
        Case(
            name: "401 is retried", attempts: 1, startedAt: t0, outcome: status(401), now: t0,
            random: 0, expected: .retry(at: t0)),
        Case(
            name: "unreadable secret is a failure", attempts: 1, startedAt: t0,
            outcome: .failure(.secretUnreadable), now: t0, random: 0.5,
            expected: .retry(at: t0 + 500)),
    ]

    @Test(arguments: cases)
    func decides(_ testCase: Case) {
        let decision = Self.policy.next(
            DeliveryProgress(attempts: testCase.attempts, startedAt: testCase.startedAt),
            outcome: testCase.outcome, now: testCase.now, random: testCase.random)
        #expect(decision == testCase.expected)
    }

    @Test(arguments: [
        (0, Int64(1_000)), (1, 1_000), (2, 2_000), (3, 4_000), (10, 512_000), (11, 600_000),
        (15, 600_000), (10_000, 600_000),
    ])
    func delayCeilingDoublesUpToTheCap(attempts: Int, ceiling: Int64) {
        #expect(Self.policy.delayCeiling(afterAttempt: attempts) == ceiling)
    }

    @Test func delayCeilingDoesNotOverflow() {
        let huge = DeliveryPolicy(
            baseDelayMilliseconds: .max / 3, maximumDelayMilliseconds: .max - 1)
        #expect(huge.delayCeiling(afterAttempt: 100) == .max - 1)
    }

    @Test func decisionsMapToStates() {
        #expect(DeliveryDecision.delivered.state == .delivered)
        #expect(DeliveryDecision.retry(at: 5).state == .pending)
        #expect(DeliveryDecision.retry(at: 5).nextAttemptAt == 5)
        #expect(DeliveryDecision.dead(.maximumAge).state == .dead)
        #expect(DeliveryDecision.dead(.gone).disablesSubscriber)
        #expect(!DeliveryDecision.dead(.maximumAttempts).disablesSubscriber)
    }

    @Test(arguments: [
        DeliveryPolicy(baseDelayMilliseconds: 0),
        DeliveryPolicy(baseDelayMilliseconds: 2_000, maximumDelayMilliseconds: 1_000),
        DeliveryPolicy(maximumAttempts: 0),
        DeliveryPolicy(maximumAgeMilliseconds: 0),
    ])
    func refusesPoliciesOutOfRange(_ policy: DeliveryPolicy) {
        #expect(throws: WebhookError.self) { try policy.validate() }
    }

    @Test func acceptsTheDefaults() throws {
        try DeliveryPolicy().validate()
    }
}
