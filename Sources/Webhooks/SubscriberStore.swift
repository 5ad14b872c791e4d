import Foundation
import Store
import Support

/// The subscriber registry over the records database: admin API subscribers and those
/// synchronised from the configuration file.
///
/// Threading: like the `Database` it uses, a store belongs to one thread or serial queue at
/// a time. Secrets are sealed at rest (see ``SecretSeal``); listings show a fingerprint only,
/// and the secret of an API subscriber is returned once, by ``add(url:events:)``.
public final class SubscriberStore {
    let database: Database
    let encryptionKey: [UInt8]
    let clock: WallClock

    /// Opens the registry, creating or updating the webhook tables.
    ///
    /// `encryptionKey` (32 bytes) seals secrets; the dispatcher must be given the same key.
    /// Throws `.invalidConfiguration` for a key of the wrong size, `.storage` when the
    /// migration fails.
    public init(database: Database, encryptionKey: [UInt8], clock: WallClock = WallClock())
        throws(WebhookError)
    {
        try SecretSeal.checkKey(encryptionKey)
        try WebhookSchema.migrate(database)
        self.database = database
        self.encryptionKey = encryptionKey
        self.clock = clock
    }

    /// Registers an API subscriber with a fresh secret and returns it, secret included.
    ///
    /// This is the only time the secret leaves the store: the caller shows it to the admin
    /// once. Throws `.invalidURL` or `.invalidEventFilter` for bad input.
    public func add(url: URL, events: Set<String>) throws(WebhookError) -> WebhookSubscriber {
        try WebhookSubscriber.validate(url: url)
        try WebhookEventFilter.validate(events)
        let subscriber = WebhookSubscriber(
            id: WebhookSubscriber.generatedID(), url: url, secret: .generate(), events: events,
            source: .api, disabled: false)
        let sealed = try SecretSeal.seal(
            subscriber.secret, subscriberID: subscriber.id, key: encryptionKey)
        let now = clock.unixMilliseconds()
        try WebhookError.translating("adding a subscriber", constraintCode: .duplicateSubscriber) {
            try database.run(
                """
                INSERT INTO webhook_subscribers(id, url, sealed_secret, secret_fingerprint,
                    events, source, disabled, created_ms, updated_ms)
                VALUES (?, ?, ?, ?, ?, 'api', 0, ?, ?)
                """,
                [
                    .text(subscriber.id), .text(url.absoluteString), .blob(sealed),
                    .text(subscriber.secret.fingerprint), .text(WebhookEventFilter.encode(events)),
                    .integer(now), .integer(now),
                ])
        }
        return subscriber
    }

    /// Every subscriber that has not been removed, oldest first, without secrets.
    public func list() throws(WebhookError) -> [SubscriberSummary] {
        try WebhookError.translating("listing subscribers") {
            try database.query(Self.summarySelect + " ORDER BY created_ms, id", row: Self.summary)
        }
    }

    /// One subscriber that has not been removed, or nil.
    public func summary(id: String) throws(WebhookError) -> SubscriberSummary? {
        try WebhookError.translating("reading a subscriber") {
            try database.query(Self.summarySelect + " AND id = ?", [.text(id)], row: Self.summary)
                .first
        }
    }

    /// Removes an API subscriber: its secret is erased, it gets no more deliveries, and its
    /// pending deliveries become dead letters (`subscriber_removed`). Its row and delivery log
    /// stay, so that the history still names the URL.
    ///
    /// Throws `.unknownSubscriber`, or `.configManaged` for a subscriber from the
    /// configuration file, which the next synchronisation would bring back.
    public func remove(id: String) throws(WebhookError) {
        let now = clock.unixMilliseconds()
        try WebhookError.translating("removing a subscriber") {
            try database.transaction {
                try requireSource(id: id, allowing: [.api])
                try database.run(
                    """
                    UPDATE webhook_subscribers SET sealed_secret = NULL, removed_ms = ?,
                        disabled = 1, disabled_reason = 'admin', updated_ms = ?
                    WHERE id = ?
                    """, [.integer(now), .integer(now), .text(id)])
                try database.run(
                    """
                    UPDATE webhook_deliveries SET state = 'dead',
                        dead_reason = 'subscriber_removed', updated_ms = ?
                    WHERE subscriber_id = ? AND state = 'pending'
                    """, [.integer(now), .text(id)])
            }
        }
    }

    /// Disables or re-enables a subscriber.
    ///
    /// While disabled it gets no new deliveries, and its pending ones are held: they go out
    /// if it is enabled again within the retry policy's maximum age and become dead letters
    /// after it. A configured subscriber may be disabled here (to silence a receiver during
    /// an incident); the next configuration synchronisation enables it again. Re-enabling
    /// one that the configuration no longer lists throws `.configManaged`.
    public func setDisabled(_ disabled: Bool, id: String) throws(WebhookError) {
        let now = clock.unixMilliseconds()
        try WebhookError.translating("changing a subscriber") {
            try database.transaction {
                let row = try currentRow(id: id)
                if !disabled && row.reason == DisabledReason.removedFromConfig.rawValue {
                    throw WebhookError(
                        .configManaged, "subscriber \(id) is no longer in the configuration")
                }
                try database.run(
                    """
                    UPDATE webhook_subscribers SET disabled = ?, disabled_reason = ?,
                        updated_ms = ?
                    WHERE id = ?
                    """,
                    [
                        .integer(disabled ? 1 : 0),
                        disabled ? .text(DisabledReason.admin.rawValue) : .null,
                        .integer(now), .text(id),
                    ])
            }
        }
    }

    /// Throws `.unknownSubscriber` unless `id` names a subscriber that has not been removed,
    /// and `.configManaged` unless its source is in `allowed`.
    private func requireSource(id: String, allowing allowed: Set<WebhookSubscriber.Source>)
        throws
    {
        let row = try currentRow(id: id)
        guard allowed.contains(row.source) else {
            throw WebhookError(
                .configManaged, "subscriber \(id) comes from the configuration file")
        }
    }

    private func currentRow(id: String) throws
        -> (source: WebhookSubscriber.Source, reason: String?)
    {
        let rows = try database.query(
            "SELECT source, disabled_reason FROM webhook_subscribers "
                + "WHERE id = ? AND removed_ms IS NULL", [.text(id)]
        ) { ($0.text(at: 0), $0.text(at: 1)) }
        guard let row = rows.first else {
            throw WebhookError(.unknownSubscriber, "no subscriber has id \(id)")
        }
        guard let source = row.0.flatMap(WebhookSubscriber.Source.init(rawValue:)) else {
            throw WebhookError(.storage, "subscriber \(id) has an unknown source")
        }
        return (source, row.1)
    }

    static let summarySelect = """
        SELECT id, url, events, source, disabled, disabled_reason, secret_fingerprint,
            created_ms, updated_ms
        FROM webhook_subscribers WHERE removed_ms IS NULL
        """

    static func summary(_ row: Statement) throws -> SubscriberSummary {
        let id = row.text(at: 0) ?? ""
        guard let url = row.text(at: 1).flatMap(URL.init(string:)),
            let source = row.text(at: 3).flatMap(WebhookSubscriber.Source.init(rawValue:))
        else {
            throw WebhookError(.storage, "subscriber \(id) has an unreadable row")
        }
        return SubscriberSummary(
            id: id, url: url, events: WebhookEventFilter.decode(row.text(at: 2) ?? ""),
            source: source, disabled: row.int64(at: 4) != 0,
            disabledReason: row.text(at: 5).flatMap(DisabledReason.init(rawValue:)),
            secretFingerprint: row.text(at: 6) ?? "", createdAt: row.int64(at: 7),
            updatedAt: row.int64(at: 8))
    }
}
