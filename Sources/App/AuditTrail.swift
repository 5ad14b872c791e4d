import Audit
import Foundation
import Policy
import Server
import Store
import Support

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

    init(
        configuration: Configuration, readiness: Readiness, logger: Logger,
        onCheckpoint: @escaping @Sendable (Checkpoint) -> Void
    ) throws {
        path = configuration.auditDatabasePath
        signingKey = try AuditSigningKey.loadOrCreate(
            directory: configuration.dataDirectory, keyName: configuration.audit.keyName)
        timeout = .milliseconds(configuration.audit.commitTimeoutMilliseconds)
        clock = WallClock()
        let writerConfiguration = AuditWriterConfiguration(
            path: path, maxGroupSize: configuration.audit.maxGroupSize, queueCapacity: configuration.audit.queueCapacity,
            checkpointEvery: configuration.audit.checkpointEvery,
            checkpointInterval: .seconds(configuration.audit.checkpointIntervalSeconds))
        writer = try AuditWriter(
            configuration: writerConfiguration, signingKey: signingKey,
            onHealthChange: { healthy in
                readiness.set("audit_log", ready: healthy)
                if healthy {
                    logger.notice("audit.recovered")
                } else {
                    logger.error("audit.unavailable")
                }
            },
            onCheckpoint: onCheckpoint)
    }

    /// Appends `entry` and waits until it is durable.
    func record(_ entry: AuditEntry) throws(AuditUnavailable) {
        if case .failure(let error) = writer.appendAndWait(entry, timeout: timeout) {
            throw AuditUnavailable(cause: error.code.description)
        }
    }

    /// The current time in the log's unit, milliseconds since the epoch.
    var now: Int64 { clock.unixMilliseconds() }

    /// An entry for a request: who, from where, with which request id.
    func entry(
        _ request: Request, caller: Caller?, event: String, action: String, outcome: Outcome, status: Int,
        decision: Decision? = nil, patient: String? = nil, resources: [String] = [], details: [String: String] = [:]
    ) -> AuditEntry {
        var entry = AuditEntry(
            time: now, event: event, actor: caller?.effectiveAccount.username ?? "anonymous",
            roles: caller.map { [$0.effectiveAccount.role.rawValue] } ?? [], action: action,
            outcome: outcome.rawValue, status: status, rule: decision?.rule, patient: patient,
            resources: resources, purpose: decision?.purpose?.rawValue, grant: decision?.grantID,
            requestID: request.requestID, client: request.remoteAddress,
            userAgent: request.headers["User-Agent"].map { String($0.prefix(256)) }, details: details)
        if let caller, caller.account.role == .ehrSystem, caller.onBehalfOf != nil {
            entry.proxy = caller.account.username
        }
        return entry
    }

    enum Outcome: String {
        case allowed, denied, error
    }

    /// Marks the start of a run, and a previous run that ended without its stop entry.
    func recordStart(version: String) throws {
        let reader = try AuditReader.open(path: path)
        let size = try reader.size()
        if size > 0, let last = try reader.event(seq: size), last.event != "server.stop" {
            try record(
                AuditEntry(
                    time: now, event: "server.unclean_shutdown", actor: "phigate", action: "server.start",
                    outcome: "error", status: 0, details: ["last_seq": String(size), "last_event": last.event]))
        }
        try record(
            AuditEntry(
                time: now, event: "server.start", actor: "phigate", action: "server.start", outcome: "allowed",
                status: 0, details: ["version": version]))
    }

    /// The last entry of a clean shutdown, then the final checkpoint.
    func recordStop() throws {
        try record(
            AuditEntry(
                time: now, event: "server.stop", actor: "phigate", action: "server.stop", outcome: "allowed",
                status: 0))
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
