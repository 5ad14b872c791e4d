import Crypto
import Foundation
import Store
import Support
import Testing

@testable import Webhooks

@Suite("Dispatcher against a real receiver")
struct DispatcherTests {
    private func verifiesInSwift(_ request: LocalReceiver.Request) throws -> Bool {
        let timestamp = try #require(request.headers["webhook-timestamp"].flatMap { Int64($0) })
        return WebhookSigner.verify(
            id: try #require(request.headers["webhook-id"]), timestamp: timestamp,
            body: request.body, secret: try WebhookSecret(parsing: Signatures.specSecret),
            signatureHeader: try #require(request.headers["webhook-signature"]),
            now: WallClock().unixSeconds())
    }

    @Test func aPokeSendsASignedAlertAtOnce() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        try fixture.configure([(receiver.url("/ok"), ["*"])])
        var configuration = fixture.configuration()
        // Only the poke can find the event in time: the periodic scan is a minute away.
        configuration.scanIntervalMilliseconds = 60_000
        let reports = ReportLog()
        let dispatcher = try WebhookDispatcher(configuration: configuration, report: reports.append)
        dispatcher.start()
        defer { dispatcher.stop() }

        let event = try fixture.enqueue()
        dispatcher.poke()

        #expect(
            try await eventually(within: 5) { try fixture.delivery(of: event).state == .delivered })
        let requests = try receiver.requests()
        try #require(requests.count == 1)
        #expect(requests[0].verified)
        #expect(try verifiesInSwift(requests[0]))
        #expect(requests[0].headers["webhook-id"] == event.id)
        #expect(requests[0].body == event.messageBody)
        let delivery = try fixture.delivery(of: event)
        let attempts = try fixture.log.attempts(deliveryID: delivery.id)
        #expect(attempts.map(\.httpStatus) == [200])
        #expect(attempts.map(\.errorClass) == [nil])
        #expect(
            try fixture.log.counters()
                == WebhookCounters(
                    delivered: 1, failedAttempts: 0, dead: 0, pending: 0, inFlight: 0))
        #expect(reports.attempts.map(\.decision) == [.delivered])
    }

    @Test func twoFailuresThenSuccessKeepTheWebhookID() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        try fixture.configure([(receiver.url("/flaky/2"), ["*"])])
        let dispatcher = try WebhookDispatcher(configuration: fixture.configuration())
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }

        #expect(try await eventually { try fixture.delivery(of: event).state == .delivered })
        let requests = try receiver.requests()
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.headers["webhook-id"] == event.id && $0.verified })
        #expect(requests.allSatisfy { $0.body == event.messageBody })
        let delivery = try fixture.delivery(of: event)
        #expect(delivery.attempts == 3)
        let attempts = try fixture.log.attempts(deliveryID: delivery.id)
        #expect(attempts.map(\.number) == [1, 2, 3])
        #expect(attempts.map(\.httpStatus) == [500, 500, 200])
        #expect(attempts.allSatisfy { $0.durationMilliseconds >= 0 })
        #expect(try fixture.log.counters().failedAttempts == 2)
    }

    @Test func aReceiverThatComesBackGetsTheAlert() async throws {
        let fixture = try OutboxFixture()
        let first = try await LocalReceiver.start(directory: fixture.directory)
        let port = first.port
        await first.stop()
        try fixture.configure([("http://127.0.0.1:\(port)/ok", ["*"])])
        let dispatcher = try WebhookDispatcher(configuration: fixture.configuration())
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }

        let delivery = try fixture.delivery(of: event)
        #expect(try await eventually { try fixture.finishedAttempts(of: delivery).count >= 2 })
        let receiver = try await LocalReceiver.start(directory: fixture.directory, port: port)

        #expect(try await eventually { try fixture.delivery(of: event).state == .delivered })
        let attempts = try fixture.log.attempts(deliveryID: delivery.id)
        #expect(attempts.dropLast().allSatisfy { $0.errorClass == "connection_refused" })
        #expect(attempts.last?.httpStatus == 200)
        let requests = try receiver.requests()
        #expect(requests.count == 1)
        #expect(requests.first?.headers["webhook-id"] == event.id)
        #expect(requests.first?.verified == true)
    }

    @Test func aNewDispatcherFinishesWhatAStoppedOneLeftInFlight() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        // The first request hangs for a minute, longer than the test; later ones succeed.
        try fixture.configure([(receiver.url("/hang-first/60"), ["*"])])
        let event = try fixture.enqueue()
        let firstReports = ReportLog()
        let first = try WebhookDispatcher(
            configuration: fixture.configuration(timeoutMilliseconds: 120_000),
            report: firstReports.append)
        first.start()

        // The first dispatcher's request is at the receiver; stop it like a crash would.
        #expect(try await eventually { try receiver.requests().count == 1 })
        first.stop()
        #expect(try fixture.delivery(of: event).state == .inFlight)

        let reports = ReportLog()
        let second = try WebhookDispatcher(
            configuration: fixture.configuration(), report: reports.append)
        second.start()
        defer { second.stop() }

        #expect(try await eventually { try fixture.delivery(of: event).state == .delivered })
        #expect(reports.all.first == .recovered(deliveries: 1))
        #expect(firstReports.attempts.isEmpty)
        let delivery = try fixture.delivery(of: event)
        let attempts = try fixture.log.attempts(deliveryID: delivery.id)
        #expect(attempts.map(\.errorClass) == ["interrupted", nil])
        #expect(attempts.map(\.httpStatus) == [nil, 200])
        let ids = try receiver.requests().map { $0.headers["webhook-id"] }
        #expect(ids == [event.id, event.id])
    }

    @Test func anAlertPastItsMaximumAgeIsADeadLetterAndCanBeRequeued() async throws {
        let fixture = try OutboxFixture()
        let down = try await LocalReceiver.start(directory: fixture.directory)
        let port = down.port
        await down.stop()
        try fixture.configure([("http://127.0.0.1:\(port)/ok", ["*"])])
        let dispatcher = try WebhookDispatcher(
            configuration: fixture.configuration(maximumAgeMilliseconds: 400))
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }

        #expect(try await eventually { try fixture.delivery(of: event).state == .dead })
        let dead = try fixture.log.deadLetters()
        #expect(dead.map(\.eventID) == [event.id])
        #expect(dead.first?.deadReason == .maximumAge)
        #expect(dead.first?.lastError == "connection_refused")
        let delivery = try fixture.delivery(of: event)
        let failed = try fixture.log.attempts(deliveryID: delivery.id)
        #expect(failed.count >= 2)
        #expect(failed.allSatisfy { $0.errorClass == "connection_refused" })
        let counters = try fixture.log.counters()
        #expect(counters.dead == 1 && counters.pending == 0 && counters.delivered == 0)
        #expect(counters.failedAttempts == failed.count)

        let receiver = try await LocalReceiver.start(directory: fixture.directory, port: port)
        try fixture.log.requeue(deliveryID: delivery.id)
        dispatcher.poke()
        #expect(try await eventually { try fixture.delivery(of: event).state == .delivered })
        #expect(try receiver.requests().map { $0.headers["webhook-id"] } == [event.id])
        #expect(try fixture.log.attempts(deliveryID: delivery.id).last?.number == failed.count + 1)
        #expect(try fixture.log.deadLetters().isEmpty)
    }

    @Test func goneDisablesTheSubscriber() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        let ids = try fixture.configure([(receiver.url("/status/410"), ["*"])])
        let dispatcher = try WebhookDispatcher(configuration: fixture.configuration())
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }

        #expect(try await eventually { try fixture.delivery(of: event).state == .dead })
        #expect(try fixture.delivery(of: event).deadReason == .gone)
        let summary = try fixture.store.summary(id: ids[0])
        #expect(summary?.disabled == true && summary?.disabledReason == .gone)
        let later = try fixture.enqueue()
        #expect(try fixture.log.deliveries(eventID: later.id).isEmpty)
        #expect(try receiver.requests().count == 1)
    }

    @Test func aDisabledSubscribersDeliveriesWaitUntilItIsEnabled() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        let ids = try fixture.configure([(receiver.url("/ok"), ["*"])])
        let event = try fixture.enqueue()
        try fixture.store.setDisabled(true, id: ids[0])
        let dispatcher = try WebhookDispatcher(configuration: fixture.configuration())
        dispatcher.start()
        defer { dispatcher.stop() }

        try await Task.sleep(for: .milliseconds(500))
        #expect(try fixture.delivery(of: event).state == .pending)
        #expect(try fixture.delivery(of: event).attempts == 0)

        try fixture.store.setDisabled(false, id: ids[0])
        dispatcher.poke()
        #expect(try await eventually { try fixture.delivery(of: event).state == .delivered })
        #expect(try receiver.requests().map { $0.headers["webhook-id"] } == [event.id])
    }

    @Test func heldDeliveriesExpireAfterTheMaximumAge() async throws {
        let fixture = try OutboxFixture()
        let ids = try fixture.configure([("http://127.0.0.1:9/never", ["*"])])
        let event = try fixture.enqueue()
        try fixture.store.setDisabled(true, id: ids[0])
        let reports = ReportLog()
        let dispatcher = try WebhookDispatcher(
            configuration: fixture.configuration(maximumAgeMilliseconds: 300),
            report: reports.append)
        dispatcher.start()
        defer { dispatcher.stop() }

        #expect(try await eventually { try fixture.delivery(of: event).state == .dead })
        let delivery = try fixture.delivery(of: event)
        #expect(delivery.deadReason == .maximumAge && delivery.attempts == 0)
        #expect(reports.all.contains(.expired(deliveries: 1)))
    }

    @Test func aRedirectIsRecordedAsAFailureAndNotFollowed() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        try fixture.configure([(receiver.url("/redirect"), ["*"])])
        let dispatcher = try WebhookDispatcher(configuration: fixture.configuration())
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }

        let delivery = try fixture.delivery(of: event)
        #expect(try await eventually { try fixture.finishedAttempts(of: delivery).count >= 2 })
        dispatcher.stop()
        let statuses = try fixture.finishedAttempts(of: delivery).prefix(2).map(\.httpStatus)
        #expect(statuses == [302, 302])
        #expect(try receiver.requests().allSatisfy { $0.path == "/redirect" })
    }

    @Test func aSlowReceiverDoesNotBlockTheOthers() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        try fixture.configure([
            (receiver.url("/sleep/60"), ["audit.*"]), (receiver.url("/ok"), ["break_glass.*"]),
        ])
        var slowEvents: [WebhookEvent] = []
        for _ in 0..<3 {
            slowEvents.append(try fixture.enqueue("audit.checkpoint"))
        }
        let fast = try fixture.enqueue("break_glass.activated")
        let dispatcher = try WebhookDispatcher(
            configuration: fixture.configuration(
                timeoutMilliseconds: 120_000, concurrency: 2, perSubscriber: 1))
        dispatcher.start()
        defer { dispatcher.stop() }

        #expect(try await eventually { try fixture.delivery(of: fast).state == .delivered })
        // The slow receiver's first attempt is still open: the fast one did not wait for it.
        let firstSlow = try fixture.delivery(of: slowEvents[0])
        let open = try fixture.log.attempts(deliveryID: firstSlow.id).map(\.errorClass)
        #expect(open == ["in_progress"])
        #expect(firstSlow.state == .inFlight)
        // One slot for the slow subscriber: its other deliveries wait.
        #expect(try receiver.requests().filter { $0.path == "/sleep/60" }.count == 1)
        #expect(try fixture.delivery(of: slowEvents[1]).attempts == 0)
        #expect(try fixture.delivery(of: slowEvents[2]).attempts == 0)
    }

    @Test func aSilentReceiverIsATimedOutAttempt() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        try fixture.configure([(receiver.url("/hang-first/60"), ["*"])])
        let dispatcher = try WebhookDispatcher(
            configuration: fixture.configuration(timeoutMilliseconds: 500))
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }

        #expect(try await eventually { try fixture.delivery(of: event).state == .delivered })
        let attempts = try fixture.log.attempts(deliveryID: try fixture.delivery(of: event).id)
        // The receiver hangs on the first request only; on a loaded machine a later attempt
        // may also exceed the 500 ms, so only the first and the last are pinned down.
        #expect(attempts.first?.errorClass == "timeout")
        #expect(attempts.first?.httpStatus == nil)
        #expect((attempts.first?.durationMilliseconds ?? 0) >= 500)
        #expect(attempts.dropLast().allSatisfy { $0.errorClass == "timeout" })
        #expect(attempts.last?.errorClass == nil && attempts.last?.httpStatus == 200)
        #expect(attempts.count >= 2)
    }

    @Test func aWrongKeyIsLoggedAndNothingIsSent() async throws {
        let fixture = try OutboxFixture()
        let receiver = try await LocalReceiver.start(directory: fixture.directory)
        try fixture.configure([(receiver.url("/ok"), ["*"])])
        var configuration = fixture.configuration()
        configuration.encryptionKey = SecureRandom.bytes(32)
        let dispatcher = try WebhookDispatcher(configuration: configuration)
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }

        let delivery = try fixture.delivery(of: event)
        #expect(try await eventually { try fixture.finishedAttempts(of: delivery).count >= 2 })
        dispatcher.stop()
        let attempts = try fixture.finishedAttempts(of: delivery)
        #expect(attempts.allSatisfy { $0.errorClass == "secret_unreadable" })
        #expect(try receiver.requests().isEmpty)
    }

    @Test(arguments: [
        (0, 1), (2, 3), (4, 0), (4, 5), (1, 1),
    ])
    func refusesConcurrencyOutOfRange(total: Int, perSubscriber: Int) throws {
        let fixture = try OutboxFixture()
        let configuration = fixture.configuration(concurrency: total, perSubscriber: perSubscriber)
        let valid = total >= 1 && (1...total).contains(perSubscriber)
        let result = Result { () throws(WebhookError) in try configuration.validate() }
        switch result {
        case .success: #expect(valid)
        case .failure(let error): #expect(!valid && error.code == .invalidConfiguration)
        }
    }
}
