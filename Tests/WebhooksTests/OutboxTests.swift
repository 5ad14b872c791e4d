import Foundation
import Store
import Testing

@testable import Webhooks

@Suite("Durable outbox")
struct OutboxTests {
    private func rowCounts(_ database: Database) throws -> (events: Int64, deliveries: Int64) {
        (
            try database.scalar("SELECT count(*) FROM webhook_events") ?? -1,
            try database.scalar("SELECT count(*) FROM webhook_deliveries") ?? -1
        )
    }

    struct Abort: Error {}

    @Test func enqueueInsideARolledBackTransactionLeavesNothing() throws {
        let fixture = try OutboxFixture()
        try fixture.configure([("http://127.0.0.1:9/a", ["*"])])
        let event = try WebhookEvent(
            type: "break_glass.activated", timestamp: 1, payload: Array(#"{"grant":"g"}"#.utf8))

        #expect(throws: Abort.self) {
            try fixture.database.transaction {
                try fixture.database.run(
                    "CREATE TABLE IF NOT EXISTS grants(id TEXT PRIMARY KEY)")
                try fixture.database.run("INSERT INTO grants VALUES ('g')")
                let made = try Outbox.enqueue(event: event, in: fixture.database)
                #expect(made == 1)
                #expect(fixture.database.isInTransaction)
                throw Abort()
            }
        }

        let counts = try rowCounts(fixture.database)
        #expect(counts.events == 0 && counts.deliveries == 0)
        #expect(try fixture.log.deliveries(eventID: event.id).isEmpty)
    }

    @Test func enqueueJoinsATransactionTheCallerBegan() throws {
        let fixture = try OutboxFixture()
        try fixture.configure([("http://127.0.0.1:9/a", ["*"])])
        let first = try WebhookEvent(type: "auth.lockout", timestamp: 1, payload: Array("{}".utf8))
        let second = try WebhookEvent(type: "auth.lockout", timestamp: 1, payload: Array("{}".utf8))

        try fixture.database.execute("BEGIN")
        try Outbox.enqueue(event: first, in: fixture.database)
        #expect(fixture.database.isInTransaction)
        try fixture.database.execute("ROLLBACK")
        #expect(try rowCounts(fixture.database) == (0, 0))

        try fixture.database.execute("BEGIN")
        try Outbox.enqueue(event: second, in: fixture.database)
        // A second connection sees nothing before the caller commits.
        let other = try Database(path: fixture.path)
        #expect(try other.scalar("SELECT count(*) FROM webhook_events") == 0)
        try fixture.database.execute("COMMIT")
        #expect(try other.scalar("SELECT count(*) FROM webhook_events") == 1)
        #expect(try fixture.log.deliveries(eventID: second.id).map(\.state) == [.pending])
    }

    @Test func aDuplicateEventLeavesTheCallersTransactionUsable() throws {
        let fixture = try OutboxFixture()
        try fixture.configure([("http://127.0.0.1:9/a", ["*"])])
        let event = try fixture.enqueue()

        try fixture.database.transaction {
            try fixture.database.run("CREATE TABLE marks(n INTEGER)")
            #expect {
                try Outbox.enqueue(event: event, in: fixture.database)
            } throws: { ($0 as? WebhookError)?.code == .duplicateEvent }
            try fixture.database.run("INSERT INTO marks VALUES (1)")
        }
        #expect(try fixture.database.scalar("SELECT count(*) FROM marks") == 1)
        #expect(try rowCounts(fixture.database) == (1, 1))
    }

    @Test func eventsWithoutSubscribersAreStillRecorded() throws {
        let fixture = try OutboxFixture()
        let event = try WebhookEvent(
            type: "review.overdue", timestamp: 9, payload: Array("{}".utf8))
        #expect(try Outbox.enqueue(event: event, in: fixture.database) == 0)
        #expect(try rowCounts(fixture.database) == (1, 0))
        let body = try fixture.database.query(
            "SELECT body FROM webhook_events WHERE id = ?", [.text(event.id)]
        ) { $0.blob(at: 0) }
        #expect(body == [event.messageBody])
    }

    /// Subscribers: all, exact, family, other, disabled-all, removed-all.
    /// (event type, indices of the subscribers that get a delivery)
    static let fanOutCases: [(String, [Int])] = [
        ("break_glass.activated", [0, 1, 2]),
        ("break_glass.ended", [0, 2]),
        ("audit.checkpoint", [0, 3]),
        ("review.completed", [0]),
    ]

    @Test(arguments: fanOutCases)
    func fansOutByFilterToEnabledSubscribers(type: String, expected: [Int]) throws {
        let fixture = try OutboxFixture()
        let configured = try fixture.configure([
            ("http://127.0.0.1:9/all", ["*"]),
            ("http://127.0.0.1:9/exact", ["break_glass.activated"]),
            ("http://127.0.0.1:9/family", ["break_glass.*"]),
            ("http://127.0.0.1:9/audit", ["audit.checkpoint", "auth.lockout"]),
        ])
        let disabled = try fixture.store.add(
            url: URL(string: "http://127.0.0.1:9/off")!, events: ["*"])
        try fixture.store.setDisabled(true, id: disabled.id)
        let removed = try fixture.store.add(
            url: URL(string: "http://127.0.0.1:9/gone")!, events: ["*"])
        try fixture.store.remove(id: removed.id)

        let event = try fixture.enqueue(type)

        let receivers = try fixture.log.deliveries(eventID: event.id).map(\.subscriberID)
        #expect(Set(receivers) == Set(expected.map { configured[$0] }))
        #expect(receivers.count == expected.count)
    }

    @Test func aSubscriberAddedLaterDoesNotGetEarlierEvents() throws {
        let fixture = try OutboxFixture()
        let event = try fixture.enqueue()
        _ = try fixture.store.add(url: URL(string: "http://127.0.0.1:9/late")!, events: ["*"])
        #expect(try fixture.log.deliveries(eventID: event.id).isEmpty)
    }
}
