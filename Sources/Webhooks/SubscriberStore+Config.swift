import Store

/// What ``SubscriberStore/syncConfigured(_:)`` changed, by subscriber id, for the start-up log.
public struct ConfigSyncReport: Sendable, Equatable {
    /// Configured subscribers seen for the first time.
    public var added: [String] = []
    /// Configured subscribers whose URL text, secret, events or enabled state changed.
    public var updated: [String] = []
    /// Configured subscribers already stored exactly as configured.
    public var unchanged: [String] = []
    /// Subscribers the configuration no longer lists, disabled now.
    public var disabled: [String] = []
}

extension SubscriberStore {
    /// Makes the stored configured subscribers match the configuration file's list.
    ///
    /// Each entry is upserted under the id ``WebhookSubscriber/configuredID(for:)`` derives
    /// from its URL, with source `config`, enabled. A configured subscriber absent from the
    /// list is disabled (`removed_from_config`), not deleted: its pending deliveries are held
    /// and go out if it comes back within the retry policy's maximum age. API subscribers are
    /// not touched. All or nothing: one transaction.
    ///
    /// Throws `.duplicateSubscriber` when two entries have the same URL.
    @discardableResult
    public func syncConfigured(_ configs: [WebhookSubscriberConfig]) throws(WebhookError)
        -> ConfigSyncReport
    {
        var byID: [String: WebhookSubscriberConfig] = [:]
        var order: [String] = []
        for config in configs {
            let id = WebhookSubscriber.configuredID(for: config.url)
            guard byID.updateValue(config, forKey: id) == nil else {
                throw WebhookError(
                    .duplicateSubscriber, "two configured webhooks have the same URL")
            }
            order.append(id)
        }
        let now = clock.unixMilliseconds()
        return try WebhookError.translating("synchronising configured subscribers") {
            try database.transaction {
                var report = ConfigSyncReport()
                let stored = try storedConfigured()
                for id in order {
                    guard let config = byID[id] else { continue }
                    try upsert(config, id: id, stored: stored[id], now: now, into: &report)
                }
                for (id, row) in stored.sorted(by: { $0.key < $1.key })
                where byID[id] == nil && !row.disabledByConfig {
                    try database.run(
                        """
                        UPDATE webhook_subscribers SET disabled = 1,
                            disabled_reason = 'removed_from_config', updated_ms = ?
                        WHERE id = ?
                        """, [.integer(now), .text(id)])
                    report.disabled.append(id)
                }
                return report
            }
        }
    }

    private struct StoredConfigured {
        var url: String
        var fingerprint: String
        var events: String
        var disabled: Bool
        var disabledByConfig: Bool
    }

    private func storedConfigured() throws -> [String: StoredConfigured] {
        let rows = try database.query(
            """
            SELECT id, url, secret_fingerprint, events, disabled, disabled_reason
            FROM webhook_subscribers WHERE source = 'config' AND removed_ms IS NULL
            """
        ) { row in
            (
                row.text(at: 0) ?? "",
                StoredConfigured(
                    url: row.text(at: 1) ?? "", fingerprint: row.text(at: 2) ?? "",
                    events: row.text(at: 3) ?? "", disabled: row.int64(at: 4) != 0,
                    disabledByConfig: row.text(at: 5) == DisabledReason.removedFromConfig.rawValue)
            )
        }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    private func upsert(
        _ config: WebhookSubscriberConfig, id: String, stored: StoredConfigured?, now: Int64,
        into report: inout ConfigSyncReport
    ) throws {
        let events = WebhookEventFilter.encode(config.events)
        let url = config.url.absoluteString
        let fingerprint = config.secret.fingerprint
        if let stored, stored.url == url, stored.fingerprint == fingerprint,
            stored.events == events, !stored.disabled
        {
            report.unchanged.append(id)
            return
        }
        let sealed = try SecretSeal.seal(config.secret, subscriberID: id, key: encryptionKey)
        try database.run(
            """
            INSERT INTO webhook_subscribers(id, url, sealed_secret, secret_fingerprint, events,
                source, disabled, disabled_reason, created_ms, updated_ms)
            VALUES (?1, ?2, ?3, ?4, ?5, 'config', 0, NULL, ?6, ?6)
            ON CONFLICT(id) DO UPDATE SET url = excluded.url,
                sealed_secret = excluded.sealed_secret,
                secret_fingerprint = excluded.secret_fingerprint, events = excluded.events,
                disabled = 0, disabled_reason = NULL, updated_ms = excluded.updated_ms
            """,
            [
                .text(id), .text(url), .blob(sealed), .text(fingerprint), .text(events),
                .integer(now),
            ])
        if stored == nil {
            report.added.append(id)
        } else {
            report.updated.append(id)
        }
    }
}
