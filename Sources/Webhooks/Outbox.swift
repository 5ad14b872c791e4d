import Store
import Support

/// The durable outbox: how an event enters the delivery pipeline.
///
/// Transaction contract: ``enqueue(event:in:clock:)`` is meant to be called inside the
/// caller's open transaction on the records database, so that the change being reported
/// (a break-glass grant, a lockout) and its alert commit together or not at all. When
/// `database.isInTransaction` is true, the enqueue runs inside a savepoint of that
/// transaction and never issues BEGIN or COMMIT: a later rollback by the caller removes
/// the event and its deliveries with everything else. Without an open transaction it opens
/// its own, so the event and its deliveries are still atomic.
///
/// Nothing is sent here. After the caller's commit, ``WebhookDispatcher/poke()`` wakes the
/// dispatcher so that the alert goes out at once; without it the periodic scan finds it.
/// Poking before the commit is harmless but useless: the dispatcher's own connection cannot
/// see uncommitted rows.
public enum Outbox {
    /// Stores `event` and one pending delivery per enabled subscriber whose filter matches
    /// its type (fan-out at enqueue time: a subscriber added later does not get it), and
    /// returns how many deliveries were made. The event is stored even with none, as a
    /// record that it was raised.
    ///
    /// Requires the schema (``WebhookSchema/migrate(_:)``) to exist; the enqueue never
    /// changes the schema itself. Throws `.duplicateEvent` when the id is already stored,
    /// `.storage` when the database fails; in both cases nothing of this event remains, and
    /// the caller's transaction is left open for the caller to roll back or go on.
    @discardableResult
    public static func enqueue(
        event: WebhookEvent, in database: Database, clock: WallClock = WallClock()
    ) throws(WebhookError) -> Int {
        let now = clock.unixMilliseconds()
        let body = event.messageBody
        let operation = "enqueueing an event"
        return try WebhookError.translating(operation, constraintCode: .duplicateEvent) {
            try database.transaction {
                try database.run(
                    """
                    INSERT INTO webhook_events(id, type, occurred_at, body, created_ms)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                    [
                        .text(event.id), .text(event.type), .integer(event.timestamp),
                        .blob(body), .integer(now),
                    ])
                let subscribers = try database.query(
                    """
                    SELECT id, events FROM webhook_subscribers
                    WHERE disabled = 0 AND removed_ms IS NULL ORDER BY id
                    """
                ) { ($0.text(at: 0) ?? "", WebhookEventFilter.decode($0.text(at: 1) ?? "")) }
                var count = 0
                for (id, patterns) in subscribers
                where WebhookEventFilter.matches(patterns, type: event.type) {
                    try database.run(
                        """
                        INSERT INTO webhook_deliveries(event_id, subscriber_id, state,
                            round_started_ms, next_attempt_ms, created_ms, updated_ms)
                        VALUES (?1, ?2, 'pending', ?3, ?3, ?3, ?3)
                        """, [.text(event.id), .text(id), .integer(now)])
                    count += 1
                }
                return count
            }
        }
    }
}
