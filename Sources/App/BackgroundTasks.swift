import Auth
import BreakGlass
import Dispatch
import Store
import Support
import Webhooks

/// Periodic work beside the request path: checking that the records database takes writes,
/// moving command-line changes into the audit log, and raising `review.overdue` for
/// break-glass grants nobody has reviewed by their deadline, once per grant.
///
/// `@unchecked Sendable`: the timer is created in `init`, resumed in `start` and cancelled in
/// `stop`, all from the thread that runs the gateway; its handler runs on the private queue.
final class BackgroundTasks: @unchecked Sendable {
    private let pool: RecordsPool
    private let trail: AuditTrail
    private let alerts: Alerts
    private let logger: Logger
    private let readiness: Readiness
    private let timer: any DispatchSourceTimer

    static let interval: DispatchTimeInterval = .seconds(5)

    init(pool: RecordsPool, trail: AuditTrail, alerts: Alerts, logger: Logger, readiness: Readiness) {
        self.pool = pool
        self.trail = trail
        self.alerts = alerts
        self.logger = logger
        self.readiness = readiness
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "phigate.background"))
        timer.schedule(deadline: .now() + .seconds(1), repeating: Self.interval, leeway: .seconds(1))
        timer.setEventHandler { [weak self] in
            self?.probeRecords()
            self?.ingestAdministrativeChanges()
            self?.raiseOverdueReviews()
        }
    }

    func start() { timer.resume() }

    func stop() { timer.cancel() }

    /// Takes the records database's write lock and lets it go, within the busy timeout: a
    /// database that is locked for longer, read-only or failing turns the `records` readiness
    /// check off (logins, grants and imports would fail), and the next probe that succeeds
    /// turns it on again. Each change is logged once, with the cause.
    func probeRecords() {
        var failure: String?
        do {
            try pool.with { session in
                try session.database.transaction {
                    _ = try session.database.scalar("SELECT count(*) FROM accounts")
                }
            }
        } catch let error as StoreError {
            failure = error.code.description
        } catch {
            failure = String(describing: type(of: error))
        }
        let wasReady = !readiness.failingChecks.contains("records")
        readiness.set("records", ready: failure == nil)
        if let failure, wasReady {
            logger.error("records.unavailable", ["error": .string(failure)])
        } else if failure == nil, !wasReady {
            logger.notice("records.recovered")
        }
    }

    /// Moves changes made from the command line into the audit log.
    func ingestAdministrativeChanges() {
        do {
            let moved = try pool.with { try AdminAuditQueue.drain($0.database, into: trail) }
            if moved > 0 { logger.info("audit.admin_ingested", ["count": .int(moved)]) }
        } catch {
            logger.error("audit.admin_ingest_failed", ["error.type": .string(String(describing: type(of: error)))])
        }
    }

    /// One pass: each overdue, not yet notified review gets its alert and audit entry, with the
    /// claim, the outbox row and the entry in one transaction.
    func raiseOverdueReviews() {
        do {
            let raised = try pool.with { session -> Int in
                let now = trail.now / 1000
                var count = 0
                for review in try session.reviews.overdue(now: now) {
                    let claimed = try session.reviews.markOverdueNotified(review.grant.id, now: now) { _ in
                        var payload = JSONObjectWriter()
                        payload.add("grant_id", review.grant.id)
                        payload.add("user", review.grant.holder)
                        payload.add("patient", review.grant.patientID)
                        payload.add("due_at", review.dueAt)
                        try alerts.enqueue(WebhookEventType.reviewOverdue, payload: payload, in: session.database)
                        try trail.record(
                            .init(
                                time: trail.now, event: "review.overdue", actor: Username.Reserved.system,
                                action: "review.overdue", outcome: "allowed", status: 0,
                                patient: review.grant.patientID, grant: review.grant.id))
                    }
                    if claimed { count += 1 }
                }
                return count
            }
            if raised > 0 {
                alerts.deliverSoon()
                logger.notice("review.overdue", ["count": .int(raised)])
            }
        } catch {
            logger.error("review.overdue_failed", ["error.type": .string(String(describing: type(of: error)))])
        }
    }
}
