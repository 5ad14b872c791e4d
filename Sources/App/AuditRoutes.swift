import Audit
import Auth
import Crypto
import Policy
import Server
import Support

/// The compliance surface over the audit log: query, verify, checkpoints, accounting of
/// disclosures and streamed exports. Every use is itself an audit entry.
struct AuditRoutes {
    let trail: AuditTrail
    let verification: LogVerification

    static let exportPageSize = 500

    func routes(authentication: AuthenticationMiddleware) -> [Route] {
        let guarded = [authentication] as [any Middleware]
        return [
            Route("GET", "/audit/public-key") { request in
                _ = try request.parameters(accepted: [])
                return try publicKey()
            },
            Route("GET", "/audit/events", middleware: guarded) { request in
                try guardedCall(request, .queryAudit, event: "audit.query") { try events(request) }
            },
            Route("GET", "/audit/events/{seq}", middleware: guarded) { request in
                try guardedCall(request, .queryAudit, event: "audit.query") { try event(request) }
            },
            Route("GET", "/audit/verify", middleware: guarded) { request in
                try guardedCall(request, .verifyAudit, event: "audit.verify") { try verify(request) }
            },
            Route("GET", "/audit/checkpoints", middleware: guarded) { request in
                try guardedCall(request, .readCheckpoints, event: "audit.checkpoints") { try checkpoints(request) }
            },
            Route("GET", "/audit/disclosures", middleware: guarded) { request in
                try guardedCall(request, .readDisclosures, event: "audit.disclosures") { try disclosures(request) }
            },
            Route("GET", "/audit/export", middleware: guarded) { request in
                try guardedCall(request, .exportAudit, event: "audit.export") { try export(request) }
            },
        ]
    }

    /// Decides, runs `body` only when allowed, then records what the caller got: a refusal as
    /// denied, a bad parameter, a missing entry or a failure as an error with its status, an
    /// answer as allowed. The entry is durable before the response is returned, and `body` only
    /// builds the answer (an export reads the log as the client takes it), so nothing from the
    /// log leaves unaudited; if the entry cannot be written the caller gets 503 instead.
    private func guardedCall(
        _ request: Request, _ action: Action, event: String, _ body: () throws -> Response
    ) throws -> Response {
        let caller = try request.caller
        // What was asked, as sent: the query (first 2,048 characters, as for searches) and the
        // entry a /audit/events/{seq} request named.
        let query = String((request.head.query ?? "").prefix(2048))
        var details = query.isEmpty ? [:] : ["query": query]
        if let seq = request.pathParameters["seq"] {
            details["seq"] = String(seq.prefix(32))
        }
        let decision = try trail.authorize(
            request, caller, action, event: event, refusal: "The audit log is for compliance accounts.",
            details: details)
        return try trail.recordingOutcome(
            { status, refused in
                trail.entry(
                    request, caller: caller, event: event, action: action.name, status: status, refused: refused,
                    decision: decision, details: details)
            }, of: body)
    }

    /// The signing key's public half. Encoding it fails only if OpenSSL does (no memory); the
    /// request then fails with 500 rather than publish an empty key.
    private func publicKey() throws -> Response {
        let key = trail.signingKey
        var body = "{\"key_name\":" + JSONText.quoted(key.keyName)
        body += ",\"verifier_key\":" + JSONText.quoted(key.verifierKey)
        body += ",\"public_key_pem\":" + JSONText.quoted(try key.publicKey.pem()) + "}"
        return Response.json(200, body)
    }

    // MARK: - Queries

    /// The filters of /audit/events and /audit/export, and of `phigate audit export`.
    static let filterNames = [
        "actor", "patient", "action", "event", "outcome", "since", "until", "grant", "limit", "cursor",
    ]

    /// Filters from the query string; times are RFC 3339 or Unix milliseconds. `limit` is nil
    /// when absent; `maximumLimit` nil means any positive count.
    static func filter(
        _ items: [(name: String, value: String)], maximumLimit: Int?
    ) throws -> (AuditFilter, limit: Int?, cursor: Int64) {
        try QueryParameters.check(items, accepted: filterNames)
        var filter = AuditFilter()
        var limit: Int?
        var cursor: Int64 = 0
        for (name, value) in items {
            switch name {
            // An account name matches in any spelling its login accepts ("Dr.Demo"); other
            // actors ("cli:…") are matched as given.
            case "actor": filter.actor = Username.canonical(value) ?? value
            case "patient": filter.patient = value
            case "action": filter.action = value
            case "event": filter.event = value
            case "outcome":
                guard ["allowed", "denied", "error"].contains(value) else {
                    throw HTTPProblem.badRequest("outcome is allowed, denied or error.")
                }
                filter.outcome = value
            case "grant": filter.grant = value
            case "since", "until":
                guard let time = Timestamp.milliseconds(value) else {
                    throw HTTPProblem.badRequest("\(name) must be an RFC 3339 time or Unix milliseconds.")
                }
                if name == "since" { filter.since = time } else { filter.until = time }
            case "limit":
                guard let n = Int(value), n >= 1, n <= maximumLimit ?? Int.max else {
                    throw HTTPProblem.badRequest(
                        maximumLimit.map { "limit must be 1 to \($0)." } ?? "limit is a positive number of entries.")
                }
                limit = n
            default:  // "cursor": the check above admits nothing else.
                guard let n = Int64(value), n >= 0 else { throw HTTPProblem.badRequest("cursor is a sequence number.") }
                cursor = n
            }
        }
        return (filter, limit, cursor)
    }

    private func reader() throws -> AuditReader { try AuditReader.open(path: trail.path) }

    private func events(_ request: Request) throws -> Response {
        let items = try request.parameters(accepted: Self.filterNames)
        let (filter, limit, cursor) = try Self.filter(items, maximumLimit: AuditReader.maximumLimit)
        let page = try reader().events(filter: filter, limit: limit ?? 100, after: cursor)
        return Response.json(200, try Self.pageJSON(page.entries, next: page.nextCursor))
    }

    static func pageJSON(_ entries: [AuditEntry], next: Int64?) throws -> [UInt8] {
        var out = Array("{\"entries\":[".utf8)
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += try AuditCanonicalEncoder.encode(entry)
        }
        out += Array(("],\"next_cursor\":" + (next.map(String.init) ?? "null") + "}").utf8)
        return out
    }

    private func event(_ request: Request) throws -> Response {
        _ = try request.parameters(accepted: [])
        let text = request.pathParameters["seq"]!
        guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seq = Int64(text), seq > 0 else {
            throw HTTPProblem.badRequest("The sequence number is a positive integer.")
        }
        guard let entry = try reader().event(seq: seq) else {
            throw HTTPProblem.notFound("No audit entry with that sequence number.")
        }
        return Response.json(200, try AuditCanonicalEncoder.encode(entry))
    }

    /// Verifies the live log, one run at a time (see ``LogVerification``): a request while one
    /// runs gets 429 with Retry-After, rather than another core.
    private func verify(_ request: Request) throws -> Response {
        _ = try request.parameters(accepted: [])
        guard let report = try verification.run() else {
            throw HTTPProblem(
                status: 429,
                detail: "A verification of the audit log is already running; try again when it has finished.",
                headers: [("Retry-After", "5")])
        }
        return Response.json(200, Self.reportJSON(report))
    }

    static func reportJSON(_ report: VerificationReport) -> String {
        var out = "{\"ok\":" + (report.ok ? "true" : "false")
        out += ",\"entries_checked\":\(report.entriesChecked),\"checkpoints_checked\":\(report.checkpointsChecked)"
        out += ",\"head_seq\":\(report.headSeq),\"head_hash\":" + JSONText.quoted(Hex.encode(report.headHash))
        out += ",\"latest_checkpoint_size\":\(report.latestCheckpointSize)"
        out += ",\"entries_after_last_checkpoint\":\(report.entriesAfterLastCheckpoint)"
        out += ",\"checkpoint_every\":\(report.checkpointEvery)"
        out += ",\"index_checked\":" + (report.indexChecked ? "true" : "false")
        out += ",\"index_blocks_checked\":\(report.indexBlocksChecked)"
        if let bad = report.firstBad {
            out += ",\"first_bad\":{\"seq\":\(bad.seq),\"reason\":" + JSONText.quoted(bad.reason.description)
            out += ",\"suspect_from\":\(bad.suspectFrom),\"message\":" + JSONText.quoted(bad.message) + "}"
        }
        return out + "}"
    }

    private func checkpoints(_ request: Request) throws -> Response {
        _ = try request.parameters(accepted: [])
        let list = try reader().checkpoints()
        let items = list.map { c in
            "{\"size\":\(c.size),\"head_hash\":" + JSONText.quoted(Base64.encode(c.headHash))
                + ",\"signed_at\":\(c.signedAt),\"signed_note\":" + JSONText.quoted(c.signedNote) + "}"
        }
        return Response.json(200, "{\"checkpoints\":[" + items.joined(separator: ",") + "]}")
    }

    /// Events whose resources came into the store rather than out of it: an import by an EHR
    /// system discloses nothing to it, so the accounting of disclosures leaves it out.
    static let inboundEvents: Set<String> = ["fhir.transaction"]

    /// The accounting of disclosures (HIPAA 164.528) for one patient: when, to whom, what and why.
    private func disclosures(_ request: Request) throws -> Response {
        let items = try request.parameters(accepted: ["patient"])
        guard let patient = items.first?.value, !patient.isEmpty else {
            throw HTTPProblem.badRequest("patient is required.")
        }
        var cursor: Int64 = 0
        var rows: [String] = []
        let reader = try reader()
        repeat {
            let page = try reader.disclosures(
                patient: patient, limit: AuditReader.maximumLimit, after: cursor, inbound: Self.inboundEvents)
            for entry in page.entries {
                var row =
                    "{\"date\":"
                    + JSONText.quoted(
                        WallClock.iso8601(unixSeconds: entry.time / 1000, milliseconds: Int(entry.time % 1000)))
                row += ",\"recipient\":" + JSONText.quoted(entry.actor)
                if let proxy = entry.proxy { row += ",\"through\":" + JSONText.quoted(proxy) }
                row += ",\"roles\":[" + entry.roles.map(JSONText.quoted).joined(separator: ",") + "]"
                row += ",\"purpose\":" + JSONText.quoted(entry.purpose ?? "unspecified")
                if let grant = entry.grant { row += ",\"grant\":" + JSONText.quoted(grant) }
                row += ",\"what\":[" + entry.resources(of: patient).map(JSONText.quoted).joined(separator: ",") + "]"
                row += ",\"seq\":\(entry.seq),\"request_id\":" + JSONText.quoted(entry.requestID ?? "") + "}"
                rows.append(row)
            }
            cursor = page.nextCursor ?? 0
        } while cursor > 0
        let body =
            "{\"patient\":" + JSONText.quoted(patient) + ",\"disclosures\":[" + rows.joined(separator: ",") + "]}"
        return Response.json(200, body)
    }

    // MARK: - Export

    /// The whole log, or what the filters select; `limit` caps the number of entries, and
    /// `cursor` (the last sequence number received) resumes after a partial export.
    private func export(_ request: Request) throws -> Response {
        let items = try request.parameters(accepted: ["format"] + Self.filterNames)
        let formatName = items.first { $0.name == "format" }?.value ?? "ndjson"
        guard let format = AuditExportFormat(rawValue: formatName) else {
            throw HTTPProblem.badRequest("format is ndjson, fhir or cef.")
        }
        let (filter, limit, cursor) = try Self.filter(items.filter { $0.name != "format" }, maximumLimit: nil)
        var response = Response(status: 200)
        response.headers.add(name: "Content-Type", value: format.contentType)
        response.headers.add(
            name: "Content-Disposition", value: "attachment; filename=\"phigate-audit.\(format.rawValue)\"")
        response.stream = AuditExportStream(
            reader: try reader(), filter: filter, cursor: cursor, limit: limit, format: format)
        return response
    }
}

/// Pages through the log as the client reads, formatting each entry.
///
/// `@unchecked Sendable`: the stream contract calls `next` one call at a time, so the reader's
/// connection and the cursor are never used concurrently.
final class AuditExportStream: ResponseBodyStream, @unchecked Sendable {
    private let reader: AuditReader
    private let filter: AuditFilter
    private let format: AuditExportFormat
    private var cursor: Int64
    /// Entries still to write when the export has a limit; nil for all of them.
    private var remaining: Int?
    private var done = false

    init(reader: AuditReader, filter: AuditFilter, cursor: Int64, limit: Int? = nil, format: AuditExportFormat) {
        self.reader = reader
        self.filter = filter
        self.cursor = cursor
        self.remaining = limit
        self.format = format
    }

    func next() throws -> [UInt8]? {
        guard !done else { return nil }
        let size = min(AuditRoutes.exportPageSize, remaining ?? AuditRoutes.exportPageSize)
        let page = try reader.events(filter: filter, limit: size, after: cursor)
        var out: [UInt8] = []
        for entry in page.entries { out += try format.line(entry) }
        if let left = remaining { remaining = left - page.entries.count }
        if let next = page.nextCursor, (remaining ?? 1) > 0 { cursor = next } else { done = true }
        return out
    }
}
