import Foundation
import Store
import Support
import Synchronization
import Webhooks

/// Security alerts: written to the webhook outbox in the caller's transaction, then delivered
/// by the dispatcher, which is woken at once so that an alert leaves within milliseconds.
final class Alerts: Sendable {
    private let dispatcher: WebhookDispatcher
    private let clock = WallClock()

    init(dispatcher: WebhookDispatcher) {
        self.dispatcher = dispatcher
    }

    /// Adds an event to the outbox through `database`, inside its open transaction when there
    /// is one, so the event commits or rolls back with the change it reports. Returns how many
    /// subscribers it will be delivered to.
    @discardableResult
    func enqueue(_ type: String, payload: JSONObjectWriter, in database: Database) throws -> Int {
        try enqueue(WebhookEvent(type: type, timestamp: clock.unixSeconds(), payload: payload.bytes), in: database)
    }

    /// Adds `event`, built by the caller with an id of its choosing, like ``enqueue(_:payload:in:)``.
    /// Throws `.duplicateEvent` when an event with that id was added before.
    @discardableResult
    func enqueue(_ event: WebhookEvent, in database: Database) throws(WebhookError) -> Int {
        try Outbox.enqueue(event: event, in: database, clock: clock)
    }

    /// Wakes the dispatcher after the transaction that enqueued events has committed.
    func deliverSoon() {
        dispatcher.poke()
    }
}

/// A flat JSON object built member by member, for webhook payloads.
struct JSONObjectWriter {
    private var members: [String] = []

    mutating func add(_ key: String, _ value: String?) {
        guard let value else { return }
        members.append(JSONText.quoted(key) + ":" + JSONText.quoted(value))
    }

    mutating func add(_ key: String, _ value: Int64) {
        members.append(JSONText.quoted(key) + ":" + String(value))
    }

    mutating func add(raw key: String, _ json: String) {
        members.append(JSONText.quoted(key) + ":" + json)
    }

    var text: String { "{" + members.joined(separator: ",") + "}" }
    var bytes: [UInt8] { Array(text.utf8) }
}

/// Notices a user collecting denials quickly — probing for records — and says when to alert.
///
/// One alert per user per window; counts live in memory, so a restart starts them afresh.
final class DenialMonitor: Sendable {
    let threshold: Int
    let windowSeconds: Int64
    private let state = Mutex<[String: (windowStart: Int64, count: Int, alerted: Bool)]>([:])

    init(threshold: Int, windowSeconds: Int64) {
        self.threshold = threshold
        self.windowSeconds = windowSeconds
    }

    /// Counts a denial for `actor` at `now`; true exactly when this denial crosses the threshold.
    func recordDenial(_ actor: String, now: Int64) -> Bool {
        state.withLock { counts in
            var entry = counts[actor] ?? (now, 0, false)
            if now - entry.windowStart >= windowSeconds { entry = (now, 0, false) }
            entry.count += 1
            let crossed = entry.count >= threshold && !entry.alerted
            if crossed { entry.alerted = true }
            counts[actor] = entry
            if counts.count > 10_000 { counts = counts.filter { now - $0.value.windowStart < windowSeconds } }
            return crossed
        }
    }
}
