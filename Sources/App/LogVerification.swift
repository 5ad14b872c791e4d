import Audit
import Auth
import Dispatch
import Store
import Support
import Synchronization
import Webhooks

/// Verification of the live audit log, for `GET /audit/verify` and once after every start.
///
/// It reads and hashes every entry, a core for about a second per 50,000 entries, so one run
/// at a time: a caller who finds one running is turned away rather than queued. A log that
/// fails is logged as `audit.verify_failed` and raised as the webhook event of that name.
struct LogVerification: Sendable {
    let trail: AuditTrail
    let pool: RecordsPool
    let alerts: Alerts
    let logger: Logger
    private let flight = SingleFlight()
    /// Set by ``stop()``: a run under way ends early and no other starts.
    private let stopping = StopFlag()

    init(trail: AuditTrail, pool: RecordsPool, alerts: Alerts, logger: Logger) {
        self.trail = trail
        self.pool = pool
        self.alerts = alerts
        self.logger = logger
    }

    /// The report of a run, or nil when another run is under way or the gateway is stopping.
    /// Throws only when the database cannot be opened or the alert cannot be queued.
    func run() throws -> VerificationReport? {
        guard flight.enter() else { return nil }
        defer { flight.leave() }
        return try runEntered()
    }

    /// ``run()`` for a caller that holds the flight.
    private func runEntered() throws -> VerificationReport? {
        let report = try verify()
        guard !report.interrupted else { return nil }
        if !report.ok {
            logger.error(
                "audit.verify_failed",
                [
                    "audit.seq": .int(Int(report.firstBad?.seq ?? 0)),
                    "audit.reason": .string(report.firstBad?.reason.description ?? ""),
                ])
            var payload = JSONObjectWriter()
            payload.add("first_bad_seq", report.firstBad?.seq ?? 0)
            payload.add("reason", report.firstBad?.reason.description)
            payload.add("entries_checked", report.entriesChecked)
            try pool.with { session in
                try session.database.transaction {
                    try alerts.enqueue(WebhookEventType.auditVerifyFailed, payload: payload, in: session.database)
                }
            }
            alerts.deliverSoon()
        }
        return report
    }

    /// One pass on a connection of its own, closed before returning: the writer's close folds
    /// the WAL into the database file only when no other connection is open.
    private func verify() throws -> VerificationReport {
        let database = try Database(path: trail.path, readOnly: true)
        return AuditVerifier.verify(
            database: database, publicKey: trail.signingKey.publicKey, keyName: trail.signingKey.keyName,
            checkpointEvery: trail.writer.configuration.checkpointEvery, shouldStop: { [stopping] in stopping.isSet })
    }

    /// Ends a run under way and keeps any other from starting; returns once none runs, so that
    /// the audit log can then be closed with no other connection open.
    func stop() {
        stopping.set()
        while !flight.enter() {
            _ = DispatchSemaphore(value: 0).wait(timeout: .now() + .milliseconds(10))
        }
    }

    /// Verifies the log once in the background, at low priority, while the gateway serves, and
    /// records the result in the log itself (`audit.verify` by the gateway: outcome `allowed`
    /// or `error` with the first bad entry). Tampering between runs is then found at the next
    /// start at the latest, not only when someone asks.
    func runInBackground() {
        DispatchQueue.global(qos: .utility).async {
            // The flight is held until the result is recorded, so that `stop` waits for both.
            guard flight.enter() else { return }
            defer { flight.leave() }
            let report: VerificationReport?
            do {
                report = try runEntered()
            } catch {
                logger.error("audit.verify_unavailable", ["error.message": .string("\(error)")])
                return
            }
            guard let report else { return }
            var details = ["trigger": "start", "entries_checked": String(report.entriesChecked)]
            if let bad = report.firstBad {
                details["first_bad_seq"] = String(bad.seq)
                details["reason"] = bad.reason.description
            } else {
                logger.info("audit.verified", ["audit.entries": .int(Int(report.entriesChecked))])
            }
            do {
                try trail.record(
                    AuditEntry(
                        time: trail.now, event: "audit.verify", actor: Username.Reserved.system,
                        action: "audit.verify", outcome: report.ok ? "allowed" : "error", status: 0,
                        details: details))
            } catch {
                logger.error("audit.verify_unrecorded", ["error.message": .string("\(error)")])
            }
        }
    }
}

/// At most one run of something at a time; callers that find it running are turned away
/// rather than queued.
final class SingleFlight: Sendable {
    private let running = Atomic<Bool>(false)

    /// True when the caller may run now; it must then call ``leave()``.
    func enter() -> Bool {
        running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func leave() {
        running.store(false, ordering: .releasing)
    }
}

/// A flag that is set once, read from any thread.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() {
        flag.store(true, ordering: .releasing)
    }
}
