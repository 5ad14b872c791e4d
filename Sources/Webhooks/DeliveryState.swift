/// Where a delivery stands in its state machine.
///
/// ```
/// pending ──claim──▶ in_flight ──2xx─────────────▶ delivered
///    ▲                   │ ──410, budget spent─▶ dead
///    └──retry at t───────┘
/// ```
/// A crash leaves `in_flight` rows; the next dispatcher start puts them back to `pending`.
public enum DeliveryState: String, Sendable, CaseIterable {
    case pending
    case inFlight = "in_flight"
    case delivered
    case dead
}

/// Why a delivery became a dead letter.
public enum DeadReason: String, Sendable, CaseIterable {
    /// The retry budget's attempt count was spent.
    case maximumAttempts = "maximum_attempts"
    /// The retry budget's time window passed.
    case maximumAge = "maximum_age"
    /// The receiver answered 410 Gone; its subscriber has been disabled.
    case gone
    /// The subscriber was removed before the delivery succeeded.
    case subscriberRemoved = "subscriber_removed"
}

/// How one attempt ended, as the transport saw it.
public enum AttemptOutcome: Sendable, Equatable {
    /// The receiver answered with a status line. `retryAfterSeconds` is a `Retry-After`
    /// header given in seconds, if any (the HTTP-date form is ignored).
    case response(status: Int, retryAfterSeconds: Int64?)
    /// No status was received.
    case failure(AttemptFailure)
}

/// Why an attempt got no status; the `name` is what the delivery log stores.
public struct AttemptFailure: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public var description: String { name }

    /// No answer within the request timeout.
    public static let timeout = AttemptFailure("timeout")
    /// The receiver's port refused the connection (receiver down).
    public static let connectionRefused = AttemptFailure("connection_refused")
    /// The host name did not resolve.
    public static let hostNotFound = AttemptFailure("host_not_found")
    /// The connection broke before a status arrived.
    public static let connectionLost = AttemptFailure("connection_lost")
    /// The TLS handshake or the certificate check failed.
    public static let tls = AttemptFailure("tls")
    /// The answer was not HTTP.
    public static let invalidResponse = AttemptFailure("invalid_response")
    /// Any other network failure.
    public static let network = AttemptFailure("network")
    /// The subscriber's stored secret did not open, so nothing was sent.
    public static let secretUnreadable = AttemptFailure("secret_unreadable")
    /// The process stopped while the attempt was in flight (log only; never a live outcome).
    public static let interrupted = AttemptFailure("interrupted")
}

/// What happens to a delivery after an attempt.
public enum DeliveryDecision: Sendable, Equatable {
    case delivered
    /// Try again at this Unix time in milliseconds.
    case retry(at: Int64)
    case dead(DeadReason)

    /// The state the delivery moves to.
    public var state: DeliveryState {
        switch self {
        case .delivered: .delivered
        case .retry: .pending
        case .dead: .dead
        }
    }

    /// When the next attempt is due, for a retry.
    public var nextAttemptAt: Int64? {
        if case .retry(let at) = self { at } else { nil }
    }

    /// Whether the subscriber must be disabled (it answered 410 Gone).
    public var disablesSubscriber: Bool {
        self == .dead(.gone)
    }
}

/// Where a delivery's retry budget stands when an attempt ends.
public struct DeliveryProgress: Sendable, Equatable {
    /// Attempts counted against the budget, including the one that just ended.
    public var attempts: Int
    /// Unix milliseconds when the budget's time window opened (enqueue or requeue).
    public var startedAt: Int64

    public init(attempts: Int, startedAt: Int64) {
        self.attempts = attempts
        self.startedAt = startedAt
    }
}
