import Crypto
import Foundation
import Store
import Testing

@testable import Webhooks

@Suite("Subscriber registry")
struct SubscriberStoreTests {
    @Test func addReturnsTheSecretOnceAndListShowsOnlyAFingerprint() throws {
        let fixture = try OutboxFixture()
        let url = try #require(URL(string: "https://siem.example.org/hooks/phigate"))
        let added = try fixture.store.add(url: url, events: ["break_glass.*", "auth.lockout"])

        #expect(added.id.hasPrefix("sub_"))
        #expect(added.source == .api && !added.disabled)
        #expect(added.secret.bytes.count == WebhookSecret.generatedByteCount)
        let listed = try fixture.store.list()
        #expect(listed.count == 1)
        #expect(listed[0].id == added.id)
        #expect(listed[0].url == url)
        #expect(listed[0].events == ["break_glass.*", "auth.lockout"])
        #expect(listed[0].secretFingerprint == added.secret.fingerprint)
        #expect(listed[0].source == .api)
    }

    @Test func secretsAreSealedAtRestAndBoundToTheirRow() throws {
        let fixture = try OutboxFixture()
        let first = try fixture.store.add(url: URL(string: "http://127.0.0.1:9/a")!, events: ["*"])
        let second = try fixture.store.add(url: URL(string: "http://127.0.0.1:9/b")!, events: ["*"])
        let sealed = try fixture.database.query(
            "SELECT id, sealed_secret FROM webhook_subscribers ORDER BY created_ms, id"
        ) { ($0.text(at: 0) ?? "", $0.blob(at: 1)) }
        let boxes = Dictionary(uniqueKeysWithValues: sealed)
        let firstBox = try #require(boxes[first.id])

        #expect(!Data(firstBox).contains(Data(first.secret.bytes)))
        #expect(!Data(firstBox).contains(Data(first.secret.text.utf8)))
        let opened = try SecretSeal.open(firstBox, subscriberID: first.id, key: fixture.key)
        #expect(opened == first.secret)
        #expect(throws: WebhookError.self) {
            try SecretSeal.open(firstBox, subscriberID: second.id, key: fixture.key)
        }
        #expect(throws: WebhookError.self) {
            try SecretSeal.open(firstBox, subscriberID: first.id, key: SecureRandom.bytes(32))
        }
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/hook", true), ("https://siem.example.org/a?b=c", true),
        ("HTTPS://siem.example.org/", true), ("ftp://siem.example.org/", false),
        ("http://user:pw@siem.example.org/", false), ("http://siem.example.org/#x", false),
        ("/relative/path", false), ("https://", false), ("not a url", false), ("", false),
        ("file:///etc/passwd", false), (" http://siem.example.org/", false),
    ])
    func validatesURLs(text: String, valid: Bool) {
        let result = Result { () throws(WebhookError) in try WebhookSubscriber.parseURL(text) }
        switch result {
        case .success: #expect(valid)
        case .failure(let error):
            #expect(!valid && error.code == .invalidURL)
            #expect(text.isEmpty || !error.message.contains(text))
        }
    }

    @Test func refusesBadInputOnAdd() throws {
        let fixture = try OutboxFixture()
        #expect {
            try fixture.store.add(url: URL(string: "ftp://x.example/")!, events: ["*"])
        } throws: { ($0 as? WebhookError)?.code == .invalidURL }
        #expect {
            try fixture.store.add(url: URL(string: "http://x.example/")!, events: [])
        } throws: { ($0 as? WebhookError)?.code == .invalidEventFilter }
        #expect(try fixture.store.list().isEmpty)
    }

    @Test func removeErasesTheSecretAndEndsPendingDeliveries() throws {
        let fixture = try OutboxFixture()
        let added = try fixture.store.add(url: URL(string: "http://127.0.0.1:9/a")!, events: ["*"])
        let event = try fixture.enqueue()

        try fixture.store.remove(id: added.id)

        #expect(try fixture.store.list().isEmpty)
        let delivery = try fixture.delivery(of: event)
        #expect(delivery.state == .dead && delivery.deadReason == .subscriberRemoved)
        #expect(delivery.url == "http://127.0.0.1:9/a")
        let secret = try fixture.database.query(
            "SELECT sealed_secret IS NULL FROM webhook_subscribers WHERE id = ?",
            [.text(added.id)]
        ) { $0.int64(at: 0) }
        #expect(secret == [1])
        #expect {
            try fixture.store.remove(id: added.id)
        } throws: { ($0 as? WebhookError)?.code == .unknownSubscriber }
    }

    @Test func configuredSubscribersCannotBeRemovedThroughTheAPI() throws {
        let fixture = try OutboxFixture()
        let ids = try fixture.configure([("http://127.0.0.1:9/cfg", ["*"])])
        #expect {
            try fixture.store.remove(id: ids[0])
        } throws: { ($0 as? WebhookError)?.code == .configManaged }
        #expect {
            try fixture.store.remove(id: "sub_nope")
        } throws: { ($0 as? WebhookError)?.code == .unknownSubscriber }
    }

    @Test func syncUpsertsByURLAndDisablesWhatTheConfigDropped() throws {
        let fixture = try OutboxFixture()
        let a = "http://127.0.0.1:9/a"
        let b = "http://127.0.0.1:9/b"
        let other = "whsec_" + Base64.encode([UInt8](repeating: 1, count: 32))
        func config(_ url: String, _ events: [String], _ secret: String = Signatures.specSecret)
            throws -> WebhookSubscriberConfig
        {
            try WebhookSubscriberConfig(url: url, secret: secret, events: events)
        }
        let idA = WebhookSubscriber.configuredID(for: URL(string: a)!)
        let idB = WebhookSubscriber.configuredID(for: URL(string: b)!)
        let api = try fixture.store.add(url: URL(string: a)!, events: ["*"])

        var report = try fixture.store.syncConfigured([config(a, ["*"]), config(b, ["auth.*"])])
        #expect(report == ConfigSyncReport(added: [idA, idB]))

        report = try fixture.store.syncConfigured([config(a, ["*"]), config(b, ["auth.*"])])
        #expect(report == ConfigSyncReport(unchanged: [idA, idB]))

        report = try fixture.store.syncConfigured([config(a, ["*"], other)])
        #expect(report == ConfigSyncReport(updated: [idA], disabled: [idB]))
        let summaries = Dictionary(
            uniqueKeysWithValues: try fixture.store.list().map { ($0.id, $0) })
        let otherFingerprint = try WebhookSecret(parsing: other).fingerprint
        #expect(summaries[idA]?.secretFingerprint == otherFingerprint)
        #expect(summaries[idB]?.disabled == true)
        #expect(summaries[idB]?.disabledReason == .removedFromConfig)
        #expect(summaries[api.id]?.disabled == false)
        #expect {
            try fixture.store.setDisabled(false, id: idB)
        } throws: { ($0 as? WebhookError)?.code == .configManaged }

        report = try fixture.store.syncConfigured([config(a, ["*"], other), config(b, ["auth.*"])])
        #expect(report == ConfigSyncReport(updated: [idB], unchanged: [idA]))
        #expect(try fixture.store.summary(id: idB)?.disabled == false)
    }

    @Test func syncRefusesTheSameURLTwice() throws {
        let fixture = try OutboxFixture()
        #expect {
            try fixture.configure([
                ("http://127.0.0.1:9/a", ["*"]), ("http://127.0.0.1:9/a", ["auth.lockout"]),
            ])
        } throws: { ($0 as? WebhookError)?.code == .duplicateSubscriber }
        #expect(try fixture.store.list().isEmpty)
    }

    @Test func configuredIDsAreStableAndDistinct() {
        let a = WebhookSubscriber.configuredID(for: URL(string: "http://127.0.0.1:9/a")!)
        #expect(a == WebhookSubscriber.configuredID(for: URL(string: "http://127.0.0.1:9/a")!))
        #expect(a != WebhookSubscriber.configuredID(for: URL(string: "http://127.0.0.1:9/b")!))
        #expect(a.hasPrefix("cfg_") && a.count == 4 + 22)
    }

    @Test func disablingHoldsAndEnablingReleases() throws {
        let fixture = try OutboxFixture()
        let added = try fixture.store.add(url: URL(string: "http://127.0.0.1:9/a")!, events: ["*"])
        try fixture.store.setDisabled(true, id: added.id)
        #expect(try fixture.store.summary(id: added.id)?.disabledReason == .admin)
        try fixture.store.setDisabled(false, id: added.id)
        let summary = try fixture.store.summary(id: added.id)
        #expect(summary?.disabled == false && summary?.disabledReason == nil)
    }

    @Test func refusesAKeyOfTheWrongSize() throws {
        let directory = try TemporaryDirectory()
        let database = try Database(path: directory.path("r.sqlite"))
        #expect {
            try SubscriberStore(database: database, encryptionKey: [1, 2, 3])
        } throws: { ($0 as? WebhookError)?.code == .invalidConfiguration }
    }
}
