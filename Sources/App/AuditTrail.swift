import Audit
import Auth
import Foundation
import Policy
import Server
import Store
import Support
import Synchronization

/// The audit log as the gateway uses it: one entry per decision, durable before the response.
///
/// `record` blocks the calling worker until the entry's group commit has reached the disk, or
/// fails with `AuditUnavailable` (503) when it cannot: the caller then sends no PHI. The writer
/// flips readiness through its health callback, so /readyz reports the log's state.
final class AuditTrail: Sendable {
    let writer: AuditWriter
    let signingKey: AuditSigningKey
    let path: String
    private let timeout: Duration
    private let clock: WallClock
    private let timeouts = GateTimeouts()

    init(
        configuration: Configuration, readiness: Readiness, logger: Logger,
        onCheckpoint: @escaping @Sendable (Checkpoint) -> Void
    ) throws {
        path = configuration.auditDatabasePath
        try KeyCustody.requireAuditKey(configuration)
        signingKey = try AuditSigningKey.loadOrCreate(
            directory: configuration.dataDirectory, keyName: configuration.audit.keyName)
        timeout = .milliseconds(configuration.audit.commitTimeoutMilliseconds)
        clock = WallClock()
        let capacity = configuration.audit.queueCapacity
        let writerConfiguration = AuditWriterConfiguration(
            path: path, maxGroupSize: configuration.audit.maxGroupSize,
            queueCapacity: configuration.audit.queueCapacity,
            checkpointEvery: configuration.audit.checkpointEvery,
            checkpointInterval: .seconds(configuration.audit.checkpointIntervalSeconds),
            stallThreshold: .milliseconds(configuration.audit.commitTimeoutMilliseconds))
        writer = try AuditWriter(
            configuration: writerConfiguration, signingKey: signingKey,
            onHealthChange: { change in
                Self.report(
                    change, readiness, logger, capacity: capacity,
                    stallThresholdMilliseconds: configuration.audit.commitTimeoutMilliseconds)
            },
            onCheckpoint: onCheckpoint)
    }

    /// Turns the writer's health into readiness checks and one log line per change, naming the
    /// failure so that an operator can tell a full disk from a read-only file or a stuck one.
    static func report(
        _ change: AuditWriter.HealthChange, _ readiness: Readiness, _ logger: Logger, capacity: Int,
        stallThresholdMilliseconds: Int64
    ) {
        switch change {
        case .writeFailed(let error):
            readiness.set("audit_log", ready: false)
            logger.error(
                "audit.unavailable",
                [
                    "error.code": .string(error.code.name), "error.store": .string(error.storeCode?.name ?? "none"),
                    "error.operation": .string(error.operation), "error.message": .string(error.message),
                ])
        case .writable:
            readiness.set("audit_log", ready: true)
            logger.notice("audit.recovered")
        case .queueFull:
            readiness.set("audit_queue", ready: false)
            logger.error("audit.queue_full", ["audit.queue_capacity": .int(capacity)])
        case .accepting:
            readiness.set("audit_queue", ready: true)
            logger.notice("audit.queue_drained")
        case .stalled:
            readiness.set("audit_commit", ready: false)
            logger.error("audit.stalled", ["audit.stall_threshold_ms": .int(Int(stallThresholdMilliseconds))])
        case .moving:
            readiness.set("audit_commit", ready: true)
            logger.notice("audit.moving")
        }
    }

    /// Appends `entry` and waits until it is durable.
    func record(_ entry: AuditEntry) throws(AuditUnavailable) {
        if case .failure(let error) = writer.appendAndWait(entry, timeout: timeout) {
            throw AuditUnavailable(cause: error.code.description)
        }
    }

    /// Appends `entry` and returns a gate that lets `response` out once the entry is durable,
    /// or replaces it with what `failure` renders (503, no PHI) when the entry fails or the
    /// commit timeout passes. No thread waits meanwhile, so many disclosures share one group
    /// commit. `failure` runs only on that path, so a success never pays for rendering it.
    func gate(_ entry: AuditEntry, failure: @escaping @Sendable () -> Response) -> any ResponseGate {
        let (seconds, attoseconds) = timeout.components
        let deadline =
            MonotonicClock.nanoseconds() + UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        return AuditGate(ticket: writer.append(entry), deadline: deadline, failure: failure, timeouts: timeouts)
    }

    /// The writer's counters in Prometheus text format.
    func metrics() -> String {
        let stats = writer.statistics
        var out = "# HELP phigate_audit_entries_total Audit entries committed.\n"
        out += "# TYPE phigate_audit_entries_total counter\nphigate_audit_entries_total \(stats.entriesAppended)\n"
        out += "# HELP phigate_audit_commits_total Audit group commits (one fsync each).\n"
        out += "# TYPE phigate_audit_commits_total counter\nphigate_audit_commits_total \(stats.groupsCommitted)\n"
        out += "# HELP phigate_audit_largest_group Most entries committed together so far.\n"
        out += "# TYPE phigate_audit_largest_group gauge\nphigate_audit_largest_group \(stats.largestGroup)\n"
        out += "# HELP phigate_audit_failed_entries_total Audit entries that could not be committed.\n"
        out += "# TYPE phigate_audit_failed_entries_total counter\n"
        out += "phigate_audit_failed_entries_total \(stats.failedEntries)\n"
        out += "# HELP phigate_audit_rejected_entries_total Audit entries refused because the queue was full.\n"
        out += "# TYPE phigate_audit_rejected_entries_total counter\n"
        out += "phigate_audit_rejected_entries_total \(stats.rejectedEntries)\n"
        out += "# HELP phigate_audit_queue_depth Audit entries waiting for the writer.\n"
        out += "# TYPE phigate_audit_queue_depth gauge\nphigate_audit_queue_depth \(stats.queueDepth)\n"
        out += "# HELP phigate_audit_checkpoints_total Signed audit checkpoints.\n"
        out += "# TYPE phigate_audit_checkpoints_total counter\n"
        out += "phigate_audit_checkpoints_total \(stats.checkpointsSigned)\n"
        out += "# HELP phigate_audit_healthy 1 while the last audit write succeeded.\n"
        out += "# TYPE phigate_audit_healthy gauge\nphigate_audit_healthy \(writer.isHealthy ? 1 : 0)\n"
        return out
    }

    /// The current time in the log's unit, milliseconds since the epoch.
    var now: Int64 { clock.unixMilliseconds() }

    /// An entry for a request: who, from where, with which request id, and the outcome that
    /// `Outcome`'s rule gives for `status`. `refused` says that a decision refused the request;
    /// without it, that is whether `decision` is a refusal.
    func entry(
        _ request: Request, caller: Caller?, event: String, action: String, status: Int, refused: Bool? = nil,
        decision: Decision? = nil, patient: String? = nil, resources: [String] = [], details: [String: String] = [:]
    ) -> AuditEntry {
        let outcome = Outcome(status: status, refused: refused ?? (decision.map { !$0.allowed } ?? false))
        var entry = AuditEntry(
            time: now, event: event, actor: caller?.effectiveAccount.username ?? Username.Reserved.anonymous,
            roles: caller.map { [$0.effectiveAccount.role.rawValue] } ?? [], action: action,
            outcome: outcome.rawValue, status: status, rule: decision?.rule, patient: patient,
            resources: resources, purpose: decision?.purpose?.rawValue, grant: decision?.grantID,
            requestID: request.requestID, client: request.remoteAddress,
            userAgent: request.headers["User-Agent"].map { String($0.prefix(256)) }, details: details)
        if let caller, caller.account.role == .ehrSystem, caller.onBehalfOf != nil {
            entry.proxy = caller.account.username
        }
        if let requested = caller?.requestedOnBehalfOf {
            entry.details["on_behalf_of"] = requested
        }
        return entry
    }

    /// Asks the policy whether `caller` may do `action`. A refusal is recorded as `event` and
    /// thrown as a problem with `refusal` as its detail; an allowed decision is returned for the
    /// caller to record once it knows the outcome.
    func authorize(
        _ request: Request, _ caller: Caller, _ action: Action, event: String, refusal: String,
        grant: String? = nil, details: [String: String] = [:]
    ) throws -> Decision {
        let decision = AccessPolicy.decide(caller.accessRequest(action, now: now / 1000))
        guard decision.allowed else {
            var denied = entry(
                request, caller: caller, event: event, action: action.name, status: decision.status,
                decision: decision, details: details)
            denied.grant = grant
            try record(denied)
            throw Denial(status: decision.status, detail: Self.refusal(decision, otherwise: refusal))
        }
        return decision
    }

    /// What a refused caller reads: the malformed-header refusals (400) say what is wrong with
    /// X-On-Behalf-Of, in the FHIR endpoints' words; any other refusal reads `otherwise`.
    static func refusal(_ decision: Decision, otherwise: String) -> String {
        decision.status == 400 ? FHIRAccess.refusal(decision).detail : otherwise
    }

    /// What became of a request, as its entry says. `init(status:refused:)` is the one rule
    /// every entry follows, so that a search by outcome means the same for every endpoint.
    enum Outcome: String {
        case allowed, denied, error

        /// `denied` when a decision refused the request — the access policy, or a check of the
        /// caller's credentials (bearer token, password, second-factor code) — whatever status
        /// answered it; `error` for any other 4xx or 5xx (a malformed body, a missing grant, a
        /// conflict, a failure), also when the policy had allowed the request; `allowed` for
        /// anything below 400. An allowed request that then failed must not read as a success.
        init(status: Int, refused: Bool) {
            if status >= 400 {
                self = refused ? .denied : .error
            } else {
                self = .allowed
            }
        }
    }

    /// Runs `body` for a request the policy allowed and records what the caller got, with
    /// `entry` making the entry for a status and whether it was a refusal (a thrown `Denial`):
    /// an answer with its status, a problem with its status, any other failure as 500. `entry`
    /// returns nil when the handler recorded the entry itself. The entry is durable before the
    /// response is returned or the error thrown; if it cannot be written the caller gets 503.
    func recordingOutcome(
        _ entry: (_ status: Int, _ refused: Bool) -> AuditEntry?, of body: () throws -> Response
    ) throws -> Response {
        let response: Response
        do {
            response = try body()
        } catch let error as any HTTPResponseError {
            if let made = entry(error.status, error is Denial) { try record(made) }
            throw error
        } catch {
            if let made = entry(500, false) { try record(made) }
            throw error
        }
        if let made = entry(response.status, false) { try record(made) }
        return response
    }

    /// Marks the start of a run, and a previous run that ended without its stop entry; then
    /// repairs the query index when the writer found its blocks out of place, or when
    /// `rebuildIndex` asks for it (after `phigate audit verify` reported `index_mismatch`).
    ///
    /// A repair is recorded first, as an `audit.index_rebuilt` entry saying what was wrong
    /// (outcome `error` when found, `allowed` when asked for): the rebuilt index no longer
    /// shows what someone did to it, so the finding lives on in the chain. A rebuild that fails
    /// is logged and the gateway serves anyway: queries read the entries the blocks no longer
    /// describe one by one.
    func recordStart(version: String, rebuildIndex: Bool = false, logger: Logger) throws {
        let reader = try AuditReader.open(path: path)
        let size = try reader.size()
        if size > 0 {
            // An entry that does not decode (edited, or torn) must not keep the gateway from
            // serving: it cannot be told to be a clean stop, and the start-up verification
            // names and alerts it.
            var lastEvent: String?
            do {
                lastEvent = try reader.event(seq: size)?.event
            } catch {
                logger.error("audit.last_entry_unreadable", ["audit.seq": .int(Int(size))])
            }
            if lastEvent != "server.stop" {
                try record(
                    AuditEntry(
                        time: now, event: "server.unclean_shutdown", actor: Username.Reserved.system,
                        action: "server.unclean_shutdown", outcome: "error", status: 0,
                        details: ["last_seq": String(size), "last_event": lastEvent ?? "(unreadable)"]))
                logger.warning("server.unclean_shutdown", ["audit.last_seq": .int(Int(size))])
            }
        }
        try record(
            AuditEntry(
                time: now, event: "server.start", actor: Username.Reserved.system, action: "server.start",
                outcome: "allowed", status: 0, details: ["version": version]))
        try repairIndex(asked: rebuildIndex, logger: logger)
    }

    /// Rebuilds the query index when the writer found its blocks out of place, or when
    /// `asked`, after recording why (see ``recordStart(version:rebuildIndex:logger:)``).
    private func repairIndex(asked: Bool, logger: Logger) throws {
        let fault = writer.indexFaultAtOpen
        guard fault != nil || asked else { return }
        var details = ["reason": fault?.kind.name ?? "requested"]
        if let fault {
            details["block"] = String(fault.block)
            details["detail"] = fault.message
        }
        try record(
            AuditEntry(
                time: now, event: Self.indexRebuiltEvent, actor: Username.Reserved.system,
                action: Self.indexRebuiltEvent,
                outcome: fault == nil ? "allowed" : "error", status: 0, details: details))
        let reason = LogValue.string(details["reason"] ?? "")
        let block = LogValue.int(Int(fault?.block ?? 0))
        do {
            try writer.rebuildIndex()
        } catch {
            logger.error(
                "audit.index_rebuild_failed",
                ["audit.reason": reason, "audit.block": block, "error.message": .string(error.message)])
            return
        }
        logger.log(
            fault == nil ? .notice : .error, "audit.index_rebuilt", ["audit.reason": reason, "audit.block": block])
    }

    /// The entry that records a rebuild of the query index.
    static let indexRebuiltEvent = "audit.index_rebuilt"

    /// The last entry of a clean shutdown, then the final checkpoint.
    func recordStop() throws {
        try record(
            AuditEntry(
                time: now, event: "server.stop", actor: Username.Reserved.system, action: "server.stop",
                outcome: "allowed", status: 0))
        try writer.close()
    }
}

/// The audit log cannot take the entry: the request fails closed.
struct AuditUnavailable: HTTPResponseError, Sendable {
    var cause: String
    var status: Int { 503 }
    var detail: String {
        "The audit log cannot record this request, so nothing is served until it can. Retry shortly."
    }
    var headers: [(String, String)] { [("Retry-After", "5")] }
}

/// Opens when an audit ticket completes successfully; fails closed on error or timeout.
///
/// One object per disclosure holds everything the gate needs, so that waiting costs this
/// allocation and the ticket's callback rather than a closure per outcome.
final class AuditGate: ResponseGate {
    private struct Waiter {
        let open: @Sendable (Response?) -> Void
        let failure: @Sendable () -> Response
    }

    let ticket: AuditTicket
    let deadline: UInt64
    let timeouts: GateTimeouts
    /// The failure renderer until `wait`, then both callbacks until the first outcome fires;
    /// nil afterwards, which is what makes `open` run exactly once.
    private let pending: Mutex<(failure: (@Sendable () -> Response)?, waiter: Waiter?)>

    /// `failure` renders the replacement response; called at most once, only when the gate fails.
    init(ticket: AuditTicket, deadline: UInt64, failure: @escaping @Sendable () -> Response, timeouts: GateTimeouts) {
        self.ticket = ticket
        self.deadline = deadline
        self.timeouts = timeouts
        pending = Mutex((failure, nil))
    }

    func wait(_ open: @escaping @Sendable (Response?) -> Void) {
        let armed = pending.withLock { state -> Bool in
            guard let failure = state.failure else { return false }
            state = (nil, Waiter(open: open, failure: failure))
            return true
        }
        precondition(armed, "a gate is waited on once")
        let token = timeouts.add(deadline: deadline, gate: self)
        ticket.onCompletion { [self] result in
            timeouts.remove(token)
            if case .success = result { fire(succeeded: true) } else { fire(succeeded: false) }
        }
    }

    /// Opens the gate with the response (`succeeded`) or the rendered failure; later calls do
    /// nothing.
    func fire(succeeded: Bool) {
        guard
            let waiter = pending.withLock({ state in
                defer { state.waiter = nil }; return state.waiter
            })
        else {
            return
        }
        waiter.open(succeeded ? nil : waiter.failure())
    }
}

/// Deadlines for gated responses, checked by one timer rather than one timer per request.
///
/// `@unchecked Sendable`: the timer is set up in `init` and only cancelled in `deinit`; the
/// pending deadlines are guarded by their mutex.
final class GateTimeouts: @unchecked Sendable {
    private let pending = Mutex<(next: UInt64, entries: [UInt64: (deadline: UInt64, gate: AuditGate)])>((0, [:]))
    private let timer: any DispatchSourceTimer

    init() {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "phigate.gate-timeouts"))
        timer.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50), leeway: .milliseconds(10))
        timer.setEventHandler { [weak self] in self?.expireDue() }
        timer.resume()
    }

    private func expireDue() {
        let now = MonotonicClock.nanoseconds()
        let expired = pending.withLock { state -> [AuditGate] in
            let due = state.entries.filter { $0.value.deadline <= now }
            for key in due.keys { state.entries.removeValue(forKey: key) }
            return due.values.map(\.gate)
        }
        for gate in expired { gate.fire(succeeded: false) }
    }

    deinit { timer.cancel() }

    /// Fails `gate` once `deadline` passes unless `remove` came first; returns the token
    /// for `remove`.
    func add(deadline: UInt64, gate: AuditGate) -> UInt64 {
        pending.withLock { state in
            state.next += 1
            state.entries[state.next] = (deadline, gate)
            return state.next
        }
    }

    func remove(_ token: UInt64) {
        _ = pending.withLock { $0.entries.removeValue(forKey: token) }
    }
}
