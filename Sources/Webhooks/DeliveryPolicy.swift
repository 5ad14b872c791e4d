/// The retry rules, as a pure function from (progress, outcome, time, random) to a decision.
///
/// Success is any 2xx, as Standard Webhooks defines it. Every other outcome is a failure
/// and is retried, with one exception:
/// - **410 Gone** ends the delivery at once (`dead(.gone)`) and disables the subscriber: the
///   receiver has said it wants no more webhooks, as Standard Webhooks advises.
/// - **Other 4xx are retried**, not dropped. For a security alert, a receiver answering 401,
///   403 or 404 is most often being redeployed or reconfigured, which an operator fixes
///   within the budget; a dropped break-glass alert cannot be fixed. The cost of retrying a
///   request that will never succeed is bounded by the budget below.
/// - **3xx are failures** (redirects are never followed; see ``URLSessionTransport``).
/// - A `Retry-After` in seconds (429, 503) is honoured as a lower bound, capped at
///   ``maximumDelayMilliseconds`` so that a receiver cannot park an alert for days.
///
/// Backoff is exponential with full jitter: after the n-th failed attempt the delay is
/// `random × min(maximumDelay, baseDelay × 2^(n-1))` with `random` in [0, 1). The budget is
/// ``maximumAttempts`` attempts within ``maximumAgeMilliseconds`` of enqueueing; a retry that
/// would fall after that window is moved to its end, so the last attempt happens at the
/// deadline, and a failure at or after the deadline is final (`dead(.maximumAge)`).
public struct DeliveryPolicy: Sendable, Equatable {
    /// The ceiling of the first retry's delay (default 1 s).
    public var baseDelayMilliseconds: Int64
    /// The largest delay between two attempts (default 10 min).
    public var maximumDelayMilliseconds: Int64
    /// Attempts before a delivery is dead (default 15).
    public var maximumAttempts: Int
    /// How long after enqueueing a delivery is retried (default 24 h).
    public var maximumAgeMilliseconds: Int64

    public init(
        baseDelayMilliseconds: Int64 = 1_000, maximumDelayMilliseconds: Int64 = 600_000,
        maximumAttempts: Int = 15, maximumAgeMilliseconds: Int64 = 86_400_000
    ) {
        self.baseDelayMilliseconds = baseDelayMilliseconds
        self.maximumDelayMilliseconds = maximumDelayMilliseconds
        self.maximumAttempts = maximumAttempts
        self.maximumAgeMilliseconds = maximumAgeMilliseconds
    }

    /// The backoff factor: each failure doubles the ceiling.
    public static let factor: Int64 = 2

    /// Throws `.invalidConfiguration` unless every value is positive and the maximum delay
    /// is at least the base delay.
    public func validate() throws(WebhookError) {
        guard baseDelayMilliseconds > 0, maximumDelayMilliseconds >= baseDelayMilliseconds,
            maximumAttempts >= 1, maximumAgeMilliseconds > 0
        else {
            throw WebhookError(
                .invalidConfiguration,
                "webhook retry delays, attempts and age must be positive, maximum ≥ base")
        }
    }

    /// The ceiling of the delay after the `attempts`-th failed attempt (1-based):
    /// `min(maximumDelay, baseDelay × 2^(attempts-1))`, without overflow.
    public func delayCeiling(afterAttempt attempts: Int) -> Int64 {
        var ceiling = baseDelayMilliseconds
        var doublings = max(0, attempts - 1)
        while doublings > 0 && ceiling < maximumDelayMilliseconds {
            ceiling =
                ceiling > maximumDelayMilliseconds / Self.factor
                ? maximumDelayMilliseconds : ceiling * Self.factor
            doublings -= 1
        }
        return min(ceiling, maximumDelayMilliseconds)
    }

    /// The decision after an attempt that ended with `outcome` at `now` (Unix ms).
    ///
    /// `random` is the jitter draw in [0, 1); values outside are clamped. The same inputs
    /// always give the same decision.
    public func next(
        _ progress: DeliveryProgress, outcome: AttemptOutcome, now: Int64, random: Double
    ) -> DeliveryDecision {
        var retryAfter: Int64?
        switch outcome {
        case .response(let status, _) where (200...299).contains(status):
            return .delivered
        case .response(410, _):
            return .dead(.gone)
        case .response(_, let seconds):
            retryAfter = seconds
        case .failure:
            break
        }

        guard progress.attempts < maximumAttempts else {
            return .dead(.maximumAttempts)
        }
        let deadline = progress.startedAt + maximumAgeMilliseconds
        guard now < deadline else {
            return .dead(.maximumAge)
        }
        let fraction = random.isNaN ? 0 : min(max(random, 0), 1)
        let ceiling = delayCeiling(afterAttempt: progress.attempts)
        var delay = min(Int64((Double(ceiling) * fraction).rounded(.down)), ceiling)
        if let retryAfter, retryAfter > 0 {
            let requested =
                retryAfter > maximumDelayMilliseconds / 1_000
                ? maximumDelayMilliseconds : retryAfter * 1_000
            delay = max(delay, requested)
        }
        return .retry(at: min(now + delay, deadline))
    }
}
