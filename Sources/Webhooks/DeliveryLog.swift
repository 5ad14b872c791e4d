import Store
import Support

/// One delivery (an event for a subscriber), as admins see it.
public struct DeliveryRecord: Sendable, Equatable {
    public let id: Int64
    public let eventID: String
    public let eventType: String
    public let subscriberID: String
    /// The subscriber's URL text as stored (kept after the subscriber is removed).
    public let url: String
    public let state: DeliveryState
    /// Attempts made so far, all rounds together.
    public let attempts: Int
    /// Unix ms of the next attempt, for a pending delivery.
    public let nextAttemptAt: Int64?
    /// Unix ms.
    public let createdAt: Int64
    /// Unix ms of the last change.
    public let updatedAt: Int64
    /// The status of the last attempt that got one.
    public let lastStatus: Int?
    /// The failure class of the last attempt that got no status.
    public let lastError: String?
    public let deadReason: DeadReason?
}

/// One attempt in the delivery log.
public struct AttemptRecord: Sendable, Equatable {
    public let deliveryID: Int64
    /// 1-based, counting every attempt of the delivery.
    public let number: Int
    /// Unix ms when the attempt started.
    public let attemptedAt: Int64
    /// The `webhook-timestamp` the attempt was signed with (Unix seconds).
    public let webhookTimestamp: Int64
    public let httpStatus: Int?
    /// A failure class (``AttemptFailure/name``), `in_progress` while in flight, or nil when
    /// a status arrived.
    public let errorClass: String?
    public let durationMilliseconds: Int64
}

/// Totals for `/metrics`.
public struct WebhookCounters: Sendable, Equatable {
    /// Deliveries that got a 2xx.
    public let delivered: Int
    /// Attempts that ended without a 2xx (every retry counts).
    public let failedAttempts: Int
    /// Dead letters.
    public let dead: Int
    /// Deliveries waiting for an attempt, including those held for a disabled subscriber.
    public let pending: Int
    /// Deliveries whose attempt is under way.
    public let inFlight: Int
}

/// The admin's view of the outbox: dead letters, deliveries, the attempt log, counters, and
/// a manual retry.
///
/// Threading: like the `Database` it reads, one thread or serial queue at a time. It may
/// share a connection with other readers; the dispatcher keeps its own.
public struct DeliveryLog {
    let database: Database
    let clock: WallClock

    /// Opens the log, creating or updating the webhook tables.
    public init(database: Database, clock: WallClock = WallClock()) throws(WebhookError) {
        try WebhookSchema.migrate(database)
        self.database = database
        self.clock = clock
    }

    /// Dead letters, most recent first.
    public func deadLetters(limit: Int = 100) throws(WebhookError) -> [DeliveryRecord] {
        try WebhookError.translating("listing dead letters") {
            try database.query(
                Self.recordSelect + " WHERE d.state = 'dead' ORDER BY d.updated_ms DESC, d.id DESC"
                    + " LIMIT ?", [.int(max(0, limit))], row: Self.record)
        }
    }

    /// Every delivery of one event, in subscriber order.
    public func deliveries(eventID: String) throws(WebhookError) -> [DeliveryRecord] {
        try WebhookError.translating("listing deliveries") {
            try database.query(
                Self.recordSelect + " WHERE d.event_id = ? ORDER BY d.subscriber_id",
                [.text(eventID)], row: Self.record)
        }
    }

    /// One delivery, or nil.
    public func delivery(id: Int64) throws(WebhookError) -> DeliveryRecord? {
        try WebhookError.translating("reading a delivery") {
            try database.query(
                Self.recordSelect + " WHERE d.id = ?", [.integer(id)], row: Self.record
            ).first
        }
    }

    /// The attempts of one delivery, first to last.
    public func attempts(deliveryID: Int64) throws(WebhookError) -> [AttemptRecord] {
        try WebhookError.translating("listing attempts") {
            try database.query(
                """
                SELECT delivery_id, attempt, attempted_ms, webhook_timestamp, http_status,
                    error_class, duration_ms
                FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt
                """, [.integer(deliveryID)]
            ) { row in
                AttemptRecord(
                    deliveryID: row.int64(at: 0), number: row.int(at: 1),
                    attemptedAt: row.int64(at: 2), webhookTimestamp: row.int64(at: 3),
                    httpStatus: row.isNull(at: 4) ? nil : row.int(at: 4),
                    errorClass: row.text(at: 5), durationMilliseconds: row.int64(at: 6))
            }
        }
    }

    /// Totals over the whole outbox.
    public func counters() throws(WebhookError) -> WebhookCounters {
        try WebhookError.translating("counting deliveries") {
            var byState: [String: Int] = [:]
            for (state, count) in try database.query(
                "SELECT state, count(*) FROM webhook_deliveries GROUP BY state",
                row: { ($0.text(at: 0) ?? "", $0.int(at: 1)) })
            {
                byState[state] = count
            }
            let failed =
                try database.scalar(
                    """
                    SELECT count(*) FROM webhook_attempts
                    WHERE error_class IS NOT 'in_progress'
                        AND (http_status IS NULL OR http_status NOT BETWEEN 200 AND 299)
                    """) ?? 0
            return WebhookCounters(
                delivered: byState[DeliveryState.delivered.rawValue] ?? 0,
                failedAttempts: Int(failed), dead: byState[DeliveryState.dead.rawValue] ?? 0,
                pending: byState[DeliveryState.pending.rawValue] ?? 0,
                inFlight: byState[DeliveryState.inFlight.rawValue] ?? 0)
        }
    }

    /// Sends a dead letter again: it becomes pending now with a fresh retry budget (attempt
    /// count and age window), keeping its event id, body and attempt history.
    ///
    /// Throws `.unknownDelivery`, `.invalidState` unless it is dead, and `.unknownSubscriber`
    /// when its subscriber has been removed. Call ``WebhookDispatcher/poke()`` afterwards.
    public func requeue(deliveryID: Int64) throws(WebhookError) {
        let now = clock.unixMilliseconds()
        try WebhookError.translating("requeueing a delivery") {
            try database.transaction {
                let rows = try database.query(
                    """
                    SELECT d.state, s.removed_ms IS NULL FROM webhook_deliveries d
                    JOIN webhook_subscribers s ON s.id = d.subscriber_id WHERE d.id = ?
                    """, [.integer(deliveryID)]
                ) { ($0.text(at: 0), $0.int64(at: 1) != 0) }
                guard let row = rows.first else {
                    throw WebhookError(.unknownDelivery, "no delivery has id \(deliveryID)")
                }
                guard row.0 == DeliveryState.dead.rawValue else {
                    throw WebhookError(.invalidState, "delivery \(deliveryID) is not dead")
                }
                guard row.1 else {
                    throw WebhookError(
                        .unknownSubscriber, "the subscriber of delivery \(deliveryID) is removed")
                }
                try database.run(
                    """
                    UPDATE webhook_deliveries SET state = 'pending', round_attempts = 0,
                        round_started_ms = ?1, next_attempt_ms = ?1, updated_ms = ?1,
                        dead_reason = NULL
                    WHERE id = ?2
                    """, [.integer(now), .integer(deliveryID)])
            }
        }
    }

    static let recordSelect = """
        SELECT d.id, d.event_id, e.type, d.subscriber_id, s.url, d.state, d.attempts,
            d.next_attempt_ms, d.created_ms, d.updated_ms, d.last_status, d.last_error,
            d.dead_reason
        FROM webhook_deliveries d
        JOIN webhook_events e ON e.id = d.event_id
        JOIN webhook_subscribers s ON s.id = d.subscriber_id
        """

    static func record(_ row: Statement) throws -> DeliveryRecord {
        let id = row.int64(at: 0)
        guard let state = row.text(at: 5).flatMap(DeliveryState.init(rawValue:)) else {
            throw WebhookError(.storage, "delivery \(id) has an unknown state")
        }
        return DeliveryRecord(
            id: id, eventID: row.text(at: 1) ?? "", eventType: row.text(at: 2) ?? "",
            subscriberID: row.text(at: 3) ?? "", url: row.text(at: 4) ?? "", state: state,
            attempts: row.int(at: 6),
            nextAttemptAt: state == .pending ? row.int64(at: 7) : nil,
            createdAt: row.int64(at: 8), updatedAt: row.int64(at: 9),
            lastStatus: row.isNull(at: 10) ? nil : row.int(at: 10), lastError: row.text(at: 11),
            deadReason: row.text(at: 12).flatMap(DeadReason.init(rawValue:)))
    }
}
