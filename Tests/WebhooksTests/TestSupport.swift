import Crypto
import Foundation
import Store
import Support
import Synchronization
import Testing

@testable import Webhooks

/// A directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-webhooks-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        // Best effort: a leftover directory under /tmp is harmless and must not fail a test.
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// A records database with the webhook schema, a subscriber store and a delivery log on a
/// test connection, plus the sealing key a dispatcher on the same file needs.
final class OutboxFixture {
    let directory: TemporaryDirectory
    let path: String
    let key = SecureRandom.bytes(32)
    let database: Database
    let store: SubscriberStore
    let log: DeliveryLog

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("records.sqlite")
        database = try Database(path: path)
        store = try SubscriberStore(database: database, encryptionKey: key)
        log = try DeliveryLog(database: database)
    }

    /// A configured subscriber with a known secret, returned with its id.
    @discardableResult
    func configure(
        _ entries: [(url: String, events: [String])], secret: String = Signatures.specSecret
    ) throws -> [String] {
        let configs = try entries.map {
            try WebhookSubscriberConfig(url: $0.url, secret: secret, events: $0.events)
        }
        try store.syncConfigured(configs)
        return configs.map { WebhookSubscriber.configuredID(for: $0.url) }
    }

    /// Enqueues one event outside any caller transaction.
    @discardableResult
    func enqueue(_ type: String = "break_glass.activated", payload: String = #"{"grant":"g1"}"#)
        throws -> WebhookEvent
    {
        let event = try WebhookEvent(
            type: type, timestamp: 1_800_000_000, payload: Array(payload.utf8))
        try Outbox.enqueue(event: event, in: database)
        return event
    }

    /// Dispatcher settings that keep tests fast: 50 ms backoff base, 200 ms cap.
    func configuration(
        maximumAgeMilliseconds: Int64 = 60_000, timeoutMilliseconds: Int64 = 3_000,
        concurrency: Int = 4, perSubscriber: Int = 2
    ) -> WebhookDispatcher.Configuration {
        WebhookDispatcher.Configuration(
            databasePath: path, encryptionKey: key,
            policy: DeliveryPolicy(
                baseDelayMilliseconds: 50, maximumDelayMilliseconds: 200, maximumAttempts: 50,
                maximumAgeMilliseconds: maximumAgeMilliseconds),
            maximumConcurrentDeliveries: concurrency, maximumConcurrentPerSubscriber: perSubscriber,
            requestTimeoutMilliseconds: timeoutMilliseconds, scanIntervalMilliseconds: 200)
    }

    /// The attempts of `delivery` that have ended (a stopped dispatcher leaves one open).
    func finishedAttempts(of delivery: DeliveryRecord) throws -> [AttemptRecord] {
        try log.attempts(deliveryID: delivery.id).filter { $0.errorClass != "in_progress" }
    }

    /// The one delivery of `event`.
    func delivery(of event: WebhookEvent) throws -> DeliveryRecord {
        let records = try log.deliveries(eventID: event.id)
        try #require(records.count == 1)
        return records[0]
    }
}

/// The Standard Webhooks reference libraries' test vector.
enum Signatures {
    static let specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let specID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let specTimestamp: Int64 = 1_614_265_330
    static let specPayload = #"{"test": 2432232314}"#
    static let specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
}

/// Collects a dispatcher's reports across threads.
final class ReportLog: Sendable {
    private let items = Mutex<[DispatcherReport]>([])

    func append(_ report: DispatcherReport) {
        items.withLock { $0.append(report) }
    }

    var all: [DispatcherReport] {
        items.withLock { $0 }
    }

    var attempts: [AttemptReport] {
        all.compactMap {
            if case .attempted(let report) = $0 { report } else { nil }
        }
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() {
            return true
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}
