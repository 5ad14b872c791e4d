import Store

/// The webhook tables, kept in the records database under the migration component
/// "webhooks" so that an alert can commit in the same transaction as the change it reports.
///
/// Times are Unix milliseconds (`*_ms`) except an event's `occurred_at`, which is Unix
/// seconds as the message body states it. Secrets are stored sealed with AES-256-GCM under a
/// key the database does not hold. Scripts are append-only: never edit one that has shipped.
///
/// Tables:
/// - `webhook_subscribers`: one row per subscriber; a removed subscriber keeps its row (with
///   the secret erased) so that its delivery history still names a URL.
/// - `webhook_events`: one row per event with the exact body every attempt sends.
/// - `webhook_deliveries`: one row per (event, subscriber) made at enqueue time, carrying the
///   state machine's state (`pending`, `in_flight`, `delivered`, `dead`). `attempts` numbers
///   every attempt ever made; `round_attempts` and `round_started_ms` are what the retry
///   budget counts, and are reset when an admin requeues a dead letter.
/// - `webhook_attempts`: the delivery log, one row per attempt.
public enum WebhookSchema {
    static let migrator = Migrator(component: "webhooks", scripts: [version1])

    /// Creates or updates the tables; call it once at start-up, before the first
    /// ``Outbox/enqueue(event:in:clock:)`` (which never changes the schema itself).
    public static func migrate(_ database: Database) throws(WebhookError) {
        try WebhookError.translating("webhook schema migration") {
            try migrator.migrate(database)
        }
    }

    private static let version1 = """
        CREATE TABLE webhook_subscribers(
            id TEXT PRIMARY KEY NOT NULL,
            url TEXT NOT NULL,
            sealed_secret BLOB,
            secret_fingerprint TEXT NOT NULL,
            events TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('config', 'api')),
            disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
            disabled_reason TEXT,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            removed_ms INTEGER,
            CHECK ((removed_ms IS NULL) = (sealed_secret IS NOT NULL))
        ) WITHOUT ROWID;

        CREATE TABLE webhook_events(
            id TEXT PRIMARY KEY NOT NULL,
            type TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            body BLOB NOT NULL,
            created_ms INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE webhook_deliveries(
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL REFERENCES webhook_events(id),
            subscriber_id TEXT NOT NULL REFERENCES webhook_subscribers(id),
            state TEXT NOT NULL
                CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            round_attempts INTEGER NOT NULL DEFAULT 0 CHECK (round_attempts >= 0),
            round_started_ms INTEGER NOT NULL,
            next_attempt_ms INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            last_status INTEGER,
            last_error TEXT,
            dead_reason TEXT,
            UNIQUE (event_id, subscriber_id)
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_ms);
        CREATE INDEX webhook_deliveries_by_subscriber
            ON webhook_deliveries(subscriber_id, state);

        CREATE TABLE webhook_attempts(
            delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
            attempt INTEGER NOT NULL CHECK (attempt >= 1),
            attempted_ms INTEGER NOT NULL,
            webhook_timestamp INTEGER NOT NULL,
            http_status INTEGER,
            error_class TEXT,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (delivery_id, attempt)
        ) WITHOUT ROWID;
        """
}
