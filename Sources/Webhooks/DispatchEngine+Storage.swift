import Foundation
import Store

/// The dispatcher's reads and writes of the outbox tables; all on the dispatcher's queue.
extension DispatchEngine {
    /// What an attempt needs, read and claimed in one transaction.
    struct Claim {
        let eventID: String
        let eventType: String
        let body: [UInt8]
        let subscriberID: String
        let url: URL
        let sealedSecret: [UInt8]
        let attemptNumber: Int
        let progress: DeliveryProgress
    }

    /// Puts deliveries a previous run left in flight back to pending, due now, and marks
    /// their open attempt `interrupted`. Returns how many deliveries were recovered.
    func recoverInterrupted(now: Int64) throws(WebhookError) -> Int {
        try WebhookError.translating("recovering interrupted deliveries") {
            try database.transaction {
                try database.run(
                    "UPDATE webhook_attempts SET error_class = ? WHERE error_class = 'in_progress'",
                    [.text(AttemptFailure.interrupted.name)])
                try database.run(
                    """
                    UPDATE webhook_deliveries SET state = 'pending', next_attempt_ms = ?1,
                        updated_ms = ?1
                    WHERE state = 'in_flight'
                    """, [.integer(now)])
                return database.changes
            }
        }
    }

    /// Turns into dead letters the pending deliveries that can never be attempted: those of
    /// removed subscribers, and those held for a disabled subscriber past the maximum age.
    ///
    /// Runs on every scan, so it looks before it writes: an UPDATE takes the write lock even
    /// when it matches nothing, and the gateway's own writers share that lock.
    func expireUnsendable(now: Int64) throws(WebhookError) -> Int {
        let cutoff = now - configuration.policy.maximumAgeMilliseconds
        return try WebhookError.translating("expiring undeliverable deliveries") {
            let found = try database.scalar(
                """
                SELECT EXISTS (SELECT 1 FROM webhook_deliveries d
                    JOIN webhook_subscribers s ON s.id = d.subscriber_id
                    WHERE d.state = 'pending' AND (s.removed_ms IS NOT NULL
                        OR (s.disabled = 1 AND d.round_started_ms <= ?)))
                """, [.integer(cutoff)])
            guard found == 1 else {
                return 0
            }
            try database.run(
                """
                UPDATE webhook_deliveries SET state = 'dead',
                    dead_reason = 'subscriber_removed', updated_ms = ?
                WHERE state = 'pending' AND subscriber_id IN
                    (SELECT id FROM webhook_subscribers WHERE removed_ms IS NOT NULL)
                """, [.integer(now)])
            let removed = database.changes
            try database.run(
                """
                UPDATE webhook_deliveries SET state = 'dead',
                    dead_reason = 'maximum_age', updated_ms = ?1
                WHERE state = 'pending' AND round_started_ms <= ?2 AND subscriber_id IN
                    (SELECT id FROM webhook_subscribers
                     WHERE disabled = 1 AND removed_ms IS NULL)
                """, [.integer(now), .integer(cutoff)])
            return removed + database.changes
        }
    }

    /// Each enabled subscriber with pending deliveries and the earliest one's due time,
    /// earliest first, so that the subscriber waiting longest is served first.
    func pendingBySubscriber() throws(WebhookError) -> [(String, Int64)] {
        try WebhookError.translating("scanning the outbox") {
            try database.query(
                """
                SELECT d.subscriber_id, min(d.next_attempt_ms) AS due
                FROM webhook_deliveries d
                JOIN webhook_subscribers s ON s.id = d.subscriber_id
                WHERE d.state = 'pending' AND s.disabled = 0 AND s.removed_ms IS NULL
                GROUP BY d.subscriber_id ORDER BY due, d.subscriber_id
                """
            ) { ($0.text(at: 0) ?? "", $0.int64(at: 1)) }
        }
    }

    /// Up to `limit` due deliveries of one subscriber, oldest due first.
    func dueDeliveries(of subscriberID: String, now: Int64, limit: Int)
        throws(WebhookError) -> [Int64]
    {
        try WebhookError.translating("scanning the outbox") {
            try database.query(
                """
                SELECT id FROM webhook_deliveries
                WHERE subscriber_id = ? AND state = 'pending' AND next_attempt_ms <= ?
                ORDER BY next_attempt_ms, id LIMIT ?
                """, [.text(subscriberID), .integer(now), .int(limit)]
            ) { $0.int64(at: 0) }
        }
    }

    /// Moves one pending delivery to in flight, opens its attempt in the log and returns
    /// what the attempt needs; nil when the delivery is no longer pending or its subscriber
    /// can no longer receive.
    func claim(_ deliveryID: Int64, now: Int64, webhookTimestamp: Int64)
        throws(WebhookError) -> Claim?
    {
        try WebhookError.translating("claiming a delivery") {
            try database.transaction { () throws -> Claim? in
                let rows = try database.query(
                    """
                    SELECT d.event_id, e.type, e.body, d.subscriber_id, s.url, s.sealed_secret,
                        d.attempts, d.round_attempts, d.round_started_ms
                    FROM webhook_deliveries d
                    JOIN webhook_events e ON e.id = d.event_id
                    JOIN webhook_subscribers s ON s.id = d.subscriber_id
                    WHERE d.id = ? AND d.state = 'pending' AND s.disabled = 0
                        AND s.removed_ms IS NULL
                    """, [.integer(deliveryID)]
                ) { row -> Claim? in
                    guard let url = row.text(at: 4).flatMap(URL.init(string:)) else {
                        return nil
                    }
                    return Claim(
                        eventID: row.text(at: 0) ?? "", eventType: row.text(at: 1) ?? "",
                        body: row.blob(at: 2), subscriberID: row.text(at: 3) ?? "", url: url,
                        sealedSecret: row.blob(at: 5), attemptNumber: row.int(at: 6) + 1,
                        progress: DeliveryProgress(
                            attempts: row.int(at: 7) + 1, startedAt: row.int64(at: 8)))
                }
                guard let found = rows.first else {
                    return nil
                }
                guard let claim = found else {
                    throw WebhookError(.storage, "delivery \(deliveryID) has an unreadable URL")
                }
                try database.run(
                    """
                    UPDATE webhook_deliveries SET state = 'in_flight', attempts = attempts + 1,
                        round_attempts = round_attempts + 1, updated_ms = ?
                    WHERE id = ?
                    """, [.integer(now), .integer(deliveryID)])
                try database.run(
                    """
                    INSERT INTO webhook_attempts(delivery_id, attempt, attempted_ms,
                        webhook_timestamp, error_class)
                    VALUES (?, ?, ?, ?, 'in_progress')
                    """,
                    [
                        .integer(deliveryID), .int(claim.attemptNumber), .integer(now),
                        .integer(webhookTimestamp),
                    ])
                return claim
            }
        }
    }

    /// Writes an attempt's outcome and the delivery's next state, and disables the
    /// subscriber after a 410; one transaction.
    func record(
        _ attempt: Attempt, _ outcome: AttemptOutcome, _ decision: DeliveryDecision,
        durationMilliseconds: Int64, now: Int64
    ) throws(WebhookError) {
        var status: SQLiteValue = .null
        var failure: SQLiteValue = .null
        switch outcome {
        case .response(let code, _): status = .int(code)
        case .failure(let reason): failure = .text(reason.name)
        }
        var deadReason: SQLiteValue = .null
        if case .dead(let reason) = decision {
            deadReason = .text(reason.rawValue)
        }
        try WebhookError.translating("recording an attempt") {
            try database.transaction {
                try database.run(
                    """
                    UPDATE webhook_attempts SET http_status = ?, error_class = ?,
                        duration_ms = ?
                    WHERE delivery_id = ? AND attempt = ?
                    """,
                    [
                        status, failure, .integer(max(0, durationMilliseconds)),
                        .integer(attempt.deliveryID), .int(attempt.number),
                    ])
                try database.run(
                    """
                    UPDATE webhook_deliveries SET state = ?, next_attempt_ms = coalesce(?,
                        next_attempt_ms), dead_reason = ?, last_status = ?, last_error = ?,
                        updated_ms = ?
                    WHERE id = ? AND state = 'in_flight'
                    """,
                    [
                        .text(decision.state.rawValue),
                        decision.nextAttemptAt.map(SQLiteValue.integer) ?? .null, deadReason,
                        status, failure, .integer(now), .integer(attempt.deliveryID),
                    ])
                if decision.disablesSubscriber {
                    try database.run(
                        """
                        UPDATE webhook_subscribers SET disabled = 1, disabled_reason = 'gone',
                            updated_ms = ?
                        WHERE id = ? AND removed_ms IS NULL
                        """, [.integer(now), .text(attempt.subscriberID)])
                }
            }
        }
    }
}
