import Crypto
import Dispatch
import Store
import Support
import Synchronization

/// The delivery worker: takes due deliveries from the outbox, signs and sends them, and
/// moves each through ``DeliveryPolicy``'s state machine.
///
/// Ownership: the dispatcher opens its own connection to the records database and uses it
/// only on its own serial queue; everything it does is reported through `report` (called on
/// that queue) and written to the delivery tables, never logged. At most one dispatcher may
/// run per database file: on start it takes back every `in_flight` delivery, which assumes
/// nobody else is sending them.
///
/// Timing: ``start()`` recovers and scans at once; after that the dispatcher wakes at the
/// earliest due retry, after every finished attempt, on ``poke()``, and at least every
/// `scanIntervalMilliseconds` (which also catches rows other connections committed without
/// a poke).
///
/// Guarantees: at-least-once delivery with a stable `webhook-id`. A delivery whose attempt
/// was under way when the process died or ``stop()`` was called is sent again on the next
/// start, so a receiver may see an id twice and must deduplicate, as Standard Webhooks asks.
public final class WebhookDispatcher: Sendable {
    /// Everything the dispatcher needs besides its transport.
    public struct Configuration: Sendable {
        /// The records database file (where ``Outbox`` writes).
        public var databasePath: String
        /// The 32-byte key ``SubscriberStore`` sealed the secrets with.
        public var encryptionKey: [UInt8]
        public var policy: DeliveryPolicy
        /// Attempts under way at once, over all subscribers (default 4).
        public var maximumConcurrentDeliveries: Int
        /// Attempts under way at once to one subscriber (default 2), so that a slow or
        /// hanging receiver holds at most this many slots and the others keep flowing.
        public var maximumConcurrentPerSubscriber: Int
        /// Budget of one attempt (default 10 s).
        public var requestTimeoutMilliseconds: Int64
        /// Longest sleep between two scans of the outbox (default 5 s).
        public var scanIntervalMilliseconds: Int64
        public var clock: WallClock

        public init(
            databasePath: String, encryptionKey: [UInt8], policy: DeliveryPolicy = .init(),
            maximumConcurrentDeliveries: Int = 4, maximumConcurrentPerSubscriber: Int = 2,
            requestTimeoutMilliseconds: Int64 = 10_000, scanIntervalMilliseconds: Int64 = 5_000,
            clock: WallClock = WallClock()
        ) {
            self.databasePath = databasePath
            self.encryptionKey = encryptionKey
            self.policy = policy
            self.maximumConcurrentDeliveries = maximumConcurrentDeliveries
            self.maximumConcurrentPerSubscriber = maximumConcurrentPerSubscriber
            self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            self.scanIntervalMilliseconds = scanIntervalMilliseconds
            self.clock = clock
        }

        /// Throws `.invalidConfiguration` for a value out of range.
        public func validate() throws(WebhookError) {
            try SecretSeal.checkKey(encryptionKey)
            try policy.validate()
            guard maximumConcurrentDeliveries >= 1,
                (1...maximumConcurrentDeliveries).contains(maximumConcurrentPerSubscriber)
            else {
                throw WebhookError(
                    .invalidConfiguration,
                    "webhook concurrency must be ≥ 1, per subscriber ≤ the total")
            }
            guard requestTimeoutMilliseconds > 0, scanIntervalMilliseconds > 0 else {
                throw WebhookError(
                    .invalidConfiguration, "webhook timeout and scan interval must be positive")
            }
        }
    }

    private let queue: DispatchQueue
    private let engine: DispatchEngine
    private let pokePending = Atomic<Bool>(false)

    /// Opens the dispatcher's connection and brings the schema up to date; does not start.
    ///
    /// `transport` defaults to a ``URLSessionTransport`` allowing as many connections per host
    /// as deliveries in flight: several subscribers may share one host, and a per-host limit
    /// below the total would let one slow subscriber queue another's requests behind its own.
    /// `jitter` draws the backoff fraction in [0, 1) (default: OpenSSL's generator). `report`
    /// receives every attempt and failure on the dispatcher's queue; it must return quickly
    /// and must not call ``stop()``.
    public init(
        configuration: Configuration, transport: (any WebhookTransport)? = nil,
        jitter: @escaping @Sendable () -> Double = WebhookDispatcher.secureJitter,
        report: @escaping @Sendable (DispatcherReport) -> Void = { _ in }
    ) throws(WebhookError) {
        try configuration.validate()
        let database = try WebhookError.translating("opening the webhook database") {
            try Database(path: configuration.databasePath)
        }
        try WebhookSchema.migrate(database)
        let queue = DispatchQueue(label: "phigate.webhooks.dispatcher")
        self.queue = queue
        self.engine = DispatchEngine(
            queue: queue, database: database, configuration: configuration,
            transport: transport
                ?? URLSessionTransport(
                    maximumConnectionsPerHost: configuration.maximumConcurrentDeliveries),
            jitter: jitter, report: report)
    }

    /// Recovers deliveries left `in_flight` by an earlier run, then starts delivering.
    /// Returns at once; a second call does nothing, and a stopped dispatcher stays stopped.
    public func start() {
        queue.async { [engine] in engine.start() }
    }

    /// Sends what is due now and waits, at most `timeout`, until no attempt is under way: the
    /// last alerts of a stopping gateway (its final checkpoint) then go out and are marked
    /// delivered in this run, not sent again by the next. Call ``stop()`` afterwards.
    ///
    /// - Precondition: not called on the dispatcher's queue (the `report` callback).
    public func settle(timeout: Duration) {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let deadline = ContinuousClock.now + timeout
        queue.sync { engine.scan() }
        while queue.sync(execute: { engine.inFlightCount }) > 0, ContinuousClock.now < deadline {
            _ = DispatchSemaphore(value: 0).wait(timeout: .now() + .milliseconds(10))
        }
    }

    /// Stops scanning and sending; returns once the dispatcher's queue has stopped.
    ///
    /// Attempts under way are abandoned, not awaited: their outcome is ignored and their
    /// deliveries stay `in_flight` in the database, to be sent again (same `webhook-id`) by
    /// the next dispatcher that starts on this file.
    ///
    /// - Precondition: not called on the dispatcher's queue (the `report` callback).
    public func stop() {
        dispatchPrecondition(condition: .notOnQueue(queue))
        queue.sync { engine.stop() }
    }

    /// Wakes the dispatcher to look for due deliveries now; call it after committing an
    /// ``Outbox/enqueue(event:in:clock:)`` so that the alert goes out at once. Pokes that
    /// arrive while one is already waiting are merged.
    public func poke() {
        guard !pokePending.exchange(true, ordering: .acquiringAndReleasing) else {
            return
        }
        queue.async { [engine, self] in
            pokePending.store(false, ordering: .releasing)
            engine.scan()
        }
    }

    /// A jitter draw in [0, 1) from OpenSSL's generator, the project's one random source.
    @Sendable
    public static func secureJitter() -> Double {
        let bits = SecureRandom.bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(bits >> 11) / Double(UInt64(1) << 53)
    }
}

/// What the dispatcher tells its owner (for logs and metrics).
public enum DispatcherReport: Sendable, Equatable {
    /// An attempt ended and the delivery moved on.
    case attempted(AttemptReport)
    /// On start, this many deliveries left in flight by an earlier run were made pending.
    case recovered(deliveries: Int)
    /// Pending deliveries that became dead letters without an attempt: their subscriber was
    /// removed, or stayed disabled past the maximum age.
    case expired(deliveries: Int)
    /// The database failed; the dispatcher tries again at its next scan.
    case failed(WebhookError)
}

/// One finished attempt, as reported.
public struct AttemptReport: Sendable, Equatable {
    public let deliveryID: Int64
    public let eventID: String
    public let eventType: String
    public let subscriberID: String
    /// 1-based, over the delivery's whole life.
    public let attempt: Int
    public let outcome: AttemptOutcome
    public let decision: DeliveryDecision
    public let durationMilliseconds: Int64
}
