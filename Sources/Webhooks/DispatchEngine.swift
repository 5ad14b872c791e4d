import Dispatch
import Foundation
import Store
import Support

/// The dispatcher's state and logic, confined to the dispatcher's serial queue.
///
/// `@unchecked Sendable`: every member is read and written only on `queue` (each entry point
/// checks it with `dispatchPrecondition`); the transport's completions hop back onto the
/// queue before touching anything.
final class DispatchEngine: @unchecked Sendable {
    /// One attempt under way.
    struct Attempt: Sendable {
        let deliveryID: Int64
        let eventID: String
        let eventType: String
        let subscriberID: String
        let number: Int
        let progress: DeliveryProgress
        let startedNanoseconds: UInt64
    }

    let queue: DispatchQueue
    let database: Database
    let configuration: WebhookDispatcher.Configuration
    let transport: any WebhookTransport
    let jitter: @Sendable () -> Double
    let report: @Sendable (DispatcherReport) -> Void

    private var running = false
    private var stopped = false
    /// Delivery id → subscriber id of every attempt under way.
    private var inFlight: [Int64: String] = [:]
    private var timer: DispatchSourceTimer?

    init(
        queue: DispatchQueue, database: Database, configuration: WebhookDispatcher.Configuration,
        transport: any WebhookTransport, jitter: @escaping @Sendable () -> Double,
        report: @escaping @Sendable (DispatcherReport) -> Void
    ) {
        self.queue = queue
        self.database = database
        self.configuration = configuration
        self.transport = transport
        self.jitter = jitter
        self.report = report
    }

    private var policy: DeliveryPolicy { configuration.policy }
    private var now: Int64 { configuration.clock.unixMilliseconds() }

    func start() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !running && !stopped else {
            return
        }
        running = true
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { [weak self] in self?.scan() }
        timer.resume()
        self.timer = timer
        do {
            let recovered = try recoverInterrupted(now: now)
            if recovered > 0 {
                report(.recovered(deliveries: recovered))
            }
        } catch {
            report(.failed(error))
        }
        scan()
    }

    /// Deliveries sent and not yet answered.
    var inFlightCount: Int {
        dispatchPrecondition(condition: .onQueue(queue))
        return inFlight.count
    }

    func stop() {
        dispatchPrecondition(condition: .onQueue(queue))
        running = false
        stopped = true
        timer?.cancel()
        timer = nil
        inFlight.removeAll()
    }

    /// Expires what can no longer be sent, launches what is due within the concurrency
    /// limits, and sets the timer for the next due retry.
    func scan() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard running else {
            return
        }
        let scanTime = now
        do {
            let expired = try expireUnsendable(now: scanTime)
            if expired > 0 {
                report(.expired(deliveries: expired))
            }
            try launchDue(now: scanTime)
            try scheduleWakeUp(now: scanTime)
        } catch {
            report(.failed(error))
            wake(afterMilliseconds: configuration.scanIntervalMilliseconds)
        }
    }

    private func launchDue(now: Int64) throws(WebhookError) {
        var free = configuration.maximumConcurrentDeliveries - inFlight.count
        guard free > 0 else {
            return
        }
        for (subscriberID, earliest) in try pendingBySubscriber() where earliest <= now {
            let busy = inFlight.values.lazy.filter { $0 == subscriberID }.count
            let room = min(free, configuration.maximumConcurrentPerSubscriber - busy)
            guard room > 0 else { continue }
            for deliveryID in try dueDeliveries(of: subscriberID, now: now, limit: room)
            where try launch(deliveryID, now: now) {
                free -= 1
            }
            if free == 0 {
                break
            }
        }
    }

    /// Claims one delivery, signs its request and hands it to the transport; returns false
    /// when the delivery could not be claimed (no longer pending, subscriber disabled).
    private func launch(_ deliveryID: Int64, now: Int64) throws(WebhookError) -> Bool {
        let timestamp = now / 1_000
        guard let claim = try claim(deliveryID, now: now, webhookTimestamp: timestamp) else {
            return false
        }
        let attempt = Attempt(
            deliveryID: deliveryID, eventID: claim.eventID, eventType: claim.eventType,
            subscriberID: claim.subscriberID, number: claim.attemptNumber,
            progress: claim.progress, startedNanoseconds: MonotonicClock.nanoseconds())
        inFlight[deliveryID] = claim.subscriberID

        let secret: WebhookSecret
        do {
            secret = try SecretSeal.open(
                claim.sealedSecret, subscriberID: claim.subscriberID,
                key: configuration.encryptionKey)
        } catch {
            // Recorded as a failed attempt so that the log shows it and the budget ends it.
            queue.async { [weak self] in self?.complete(attempt, .failure(.secretUnreadable)) }
            return true
        }
        let request = WebhookRequest.signed(
            url: claim.url, eventID: claim.eventID, timestamp: timestamp, body: claim.body,
            secret: secret, timeoutMilliseconds: configuration.requestTimeoutMilliseconds)
        // The closure keeps the engine alive until the transport answers, which its contract
        // bounds by the request timeout.
        transport.send(request) { [self] outcome in
            queue.async { self.complete(attempt, outcome) }
        }
        return true
    }

    /// Records an attempt's outcome and the policy's decision, then looks for more work.
    private func complete(_ attempt: Attempt, _ outcome: AttemptOutcome) {
        dispatchPrecondition(condition: .onQueue(queue))
        // After stop() the outcome is dropped: the row stays in flight for the next start.
        guard running, inFlight.removeValue(forKey: attempt.deliveryID) != nil else {
            return
        }
        let finished = now
        let elapsed = MonotonicClock.nanoseconds() - attempt.startedNanoseconds
        let duration = Int64(elapsed / 1_000_000)
        let decision = policy.next(
            attempt.progress, outcome: outcome, now: finished, random: jitter())
        do {
            try record(attempt, outcome, decision, durationMilliseconds: duration, now: finished)
            report(
                .attempted(
                    AttemptReport(
                        deliveryID: attempt.deliveryID, eventID: attempt.eventID,
                        eventType: attempt.eventType, subscriberID: attempt.subscriberID,
                        attempt: attempt.number, outcome: outcome, decision: decision,
                        durationMilliseconds: duration)))
        } catch {
            // The delivery stays in flight until the next start recovers it (and resends it).
            // Retrying the write here would need a queue of unrecorded outcomes; a database
            // that refuses small writes has bigger problems than a duplicate alert.
            report(.failed(error))
        }
        scan()
    }

    /// Arms the timer for the earliest retry of a subscriber that has room, or the scan
    /// interval, whichever is sooner.
    private func scheduleWakeUp(now: Int64) throws(WebhookError) {
        var wakeAt = now + configuration.scanIntervalMilliseconds
        if inFlight.count < configuration.maximumConcurrentDeliveries {
            for (subscriberID, earliest) in try pendingBySubscriber() {
                let busy = inFlight.values.lazy.filter { $0 == subscriberID }.count
                if busy < configuration.maximumConcurrentPerSubscriber {
                    wakeAt = min(wakeAt, earliest)
                }
            }
        }
        wake(afterMilliseconds: wakeAt - now)
    }

    private func wake(afterMilliseconds delay: Int64) {
        // A floor of a few milliseconds keeps a row that cannot be claimed from spinning.
        let milliseconds = Int(clamping: max(delay, 5))
        timer?.schedule(
            deadline: .now() + .milliseconds(milliseconds), repeating: .never,
            leeway: .milliseconds(2))
    }
}
