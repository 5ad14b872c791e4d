import Audit
import Auth
import BreakGlass
import Policy
import Server
import Store
import Support
import Webhooks

/// The FHIR R4 REST surface: read, search, $everything, transaction and the capability
/// statement. Every record access goes through `FHIRAccess` before any store read of PHI.
struct FHIRRoutes {
    static let contentType = "application/fhir+json; charset=utf-8"
    static let defaultPageSize = 50

    let pool: RecordsPool
    let clock: WallClock
    let trail: AuditTrail
    let alerts: Alerts
    let denials: DenialMonitor

    func routes(authentication: AuthenticationMiddleware) -> [Route] {
        let renderer = OperationOutcomeRenderer()
        let guarded = [authentication] as [any Middleware]
        return [
            Route("GET", "/fhir/metadata", errorRenderer: renderer) { request in
                Response.json(
                    200, CapabilityStatement.json(baseURL: Self.baseURL(request)), contentType: Self.contentType)
            },
            Route("GET", "/fhir/{type}/{id}", middleware: guarded, errorRenderer: renderer) { request in
                try read(request)
            },
            Route("GET", "/fhir/{type}", middleware: guarded, errorRenderer: renderer) { request in
                try search(request)
            },
            Route("GET", "/fhir/Patient/{id}/$everything", middleware: guarded, errorRenderer: renderer) { request in
                try everything(request)
            },
            Route("POST", "/fhir", middleware: guarded, errorRenderer: renderer) { request in
                try transaction(request)
            },
        ]
    }

    /// "http(s)://host/fhir", from the Host header the parser already validated.
    static func baseURL(_ request: Request) -> String {
        (request.isSecure ? "https://" : "http://")
            + (request.headers["Host"] ?? "localhost") + "/fhir"
    }

    /// Refuses every query parameter but a JSON `_format`: a read and `$everything` return the
    /// whole resource or compartment, so `_elements`, `_summary`, `_type`, `_since` and the like
    /// would be ignored, and an ignored narrowing parameter returns more than was asked for.
    static func refuseParameters(_ request: Request, of interaction: String) throws {
        guard let items = request.queryItems else { throw FHIRError.invalid("The query string is malformed.") }
        for (name, value) in items {
            if name == "_format", SearchQuery.isJSONFormat(value) { continue }
            throw FHIRError.notSupported(
                "\(interaction) takes no parameters here (only _format=json); it returns everything it covers.")
        }
    }

    private static func checkedType(_ type: String) throws -> String {
        guard FHIRSyntax.isValidTypeName(type), ResourceClass.of(type) != .unsupported else {
            throw FHIRError.notSupported("This server does not serve that resource type.")
        }
        return type
    }

    // MARK: - Read

    func read(_ request: Request) throws -> Response {
        let requestedType = request.pathParameters["type"]!
        let id = request.pathParameters["id"]!
        let action = Action.readResource(type: requestedType)
        return try audited(request, event: "fhir.read", action: action, requested: [requestedType, id]) {
            caller, record in
            let type = try Self.checkedType(requestedType)
            guard FHIRSyntax.isValidID(id) else { throw FHIRError.invalid("The id is not a valid FHIR id.") }
            try Self.refuseParameters(request, of: "A read")
            return try read(type: type, id: id, request: request, caller: caller, record: &record)
        }
    }

    private func read(type: String, id: String, request: Request, caller: Caller, record: inout AccessRecord)
        throws -> Response
    {
        try pool.with { session in
            try session.database.readTransaction {
                let access = try self.access(session, caller, request, &record)
                let action = Action.readResource(type: type)
                let stored = try session.records.servedResource(type: type, id: id)
                let patients: [String]
                if type == "Patient" {
                    patients = [id]
                } else if stored != nil {
                    patients = try session.records.patientCompartments(of: type, id: id)
                        .ifEmpty(ResourceClass.isPatientData(type) ? [Self.unknownPatient] : [])
                } else {
                    // A missing resource has no compartment; deciding as for an unknown patient
                    // gives the same refusal an existing one would get.
                    patients = ResourceClass.isPatientData(type) ? [Self.unknownPatient] : []
                }
                let decision = try access.decide(action, patients: patients)
                record.decision = decision
                record.patient = patients.first.flatMap { $0 == Self.unknownPatient ? nil : $0 }
                guard decision.allowed else { throw FHIRAccess.refusal(decision) }
                guard let stored else { throw FHIRError.notFound(type, id) }
                record.resources = ["\(type)/\(id)"]
                var response = Response.json(200, stored.body, contentType: Self.contentType)
                response.headers.add(name: "ETag", value: "W/\"\(stored.version)\"")
                return response
            }
        }
    }

    /// A compartment id no resource can have (FHIR ids exclude '~'), standing in for the
    /// patient of a resource that does not exist.
    static let unknownPatient = "~unknown"

    /// How much of a refused request's type and id its audit entry keeps in `details.requested`.
    static let recordedRequestLength = 128

    /// The type and id a request named, as an audit entry may hold them: joined with '/', each
    /// byte that cannot be part of a FHIR type or id replaced by '?', cut at
    /// `recordedRequestLength` bytes. An id is attacker-chosen text: control characters or
    /// markup must not reach a log viewer or a SIEM from it, and a long one must not bloat the
    /// log. Bytes rather than characters, so that the length bound is exact.
    static func requested(_ parts: [String]) -> String {
        func safe(_ byte: UInt8) -> UInt8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."): byte
            default: UInt8(ascii: "?")
            }
        }
        let joined = parts.map { String(decoding: $0.utf8.map(safe), as: UTF8.self) }.joined(separator: "/")
        return String(joined.prefix(recordedRequestLength))
    }

    /// How much of a search's query string its audit entry keeps, so that an entry says what
    /// was searched for even when nothing was found or the query was refused.
    static let recordedQueryLength = 2048

    /// The access facts for this request, noting in `record` the break-glass grant it named.
    private func access(
        _ session: RecordsSession, _ caller: Caller, _ request: Request, _ record: inout AccessRecord
    ) throws -> FHIRAccess {
        let access = try FHIRAccess(session: session, caller: caller, request: request, now: clock.unixSeconds())
        record.namedGrant = access.namedGrant
        return access
    }

    // MARK: - Search

    func search(_ request: Request) throws -> Response {
        let requestedType = request.pathParameters["type"]!
        let action = Action.searchResources(type: requestedType)
        let searched = request.head.query.map { ["query": String($0.prefix(Self.recordedQueryLength))] } ?? [:]
        return try audited(
            request, event: "fhir.search", action: action, details: searched, requested: [requestedType]
        ) { caller, record in
            let type = try Self.checkedType(requestedType)
            guard let items = request.queryItems else { throw FHIRError.invalid("The query string is malformed.") }
            var query = try SearchQuery(items, type: type)
            return try pool.with { session in
                let access = try self.access(session, caller, request, &record)
                let result: SearchResult
                if type == "Patient" {
                    let decision = try access.decide(action, patientID: nil)
                    record.decision = decision
                    guard decision.allowed else { throw FHIRAccess.refusal(decision) }
                    if decision.rule == PolicyRule.clinicianPatientSearchFiltered.rawValue {
                        query.patientParameters.restrictToIDs = try access.visiblePatients(caller.effectiveAccount)
                    }
                    do {
                        result = try session.records.searchPatients(query.patientParameters)
                    } catch let error as StoreError where error.code == .invalidSearch {
                        throw FHIRError.invalid(error.message)
                    }
                } else {
                    let decision = try access.decide(action, patientID: query.patient)
                    record.decision = decision
                    record.patient = query.patient
                    guard decision.allowed else { throw FHIRAccess.refusal(decision) }
                    let allowed = query.patient == nil ? nil : try access.allowedPatients(for: decision)
                    result = try session.records.search(
                        type: type, patient: query.patient, count: query.count, offset: query.offset,
                        allowedPatients: allowed)
                }
                record.resources = result.resources.map { "\($0.type)/\($0.id)" }
                if type == "Patient" && result.resources.count == 1 { record.patient = result.resources[0].id }
                let bundle = SearchBundle(
                    baseURL: Self.baseURL(request), type: type, query: query, total: result.total,
                    resources: result.resources)
                return Response.json(200, bundle.json(), contentType: Self.contentType)
            }
        }
    }

    // MARK: - $everything

    func everything(_ request: Request) throws -> Response {
        let id = request.pathParameters["id"]!
        return try audited(request, event: "fhir.everything", action: .patientEverything, requested: ["Patient", id]) {
            caller, record in
            guard FHIRSyntax.isValidID(id) else { throw FHIRError.invalid("The id is not a valid FHIR id.") }
            try Self.refuseParameters(request, of: "$everything")
            return try pool.with { session in
                let access = try self.access(session, caller, request, &record)
                let decision = try access.decide(.patientEverything, patientID: id)
                record.decision = decision
                record.patient = id
                guard decision.allowed else { throw FHIRAccess.refusal(decision) }
                let resources = try session.records.everything(
                    patient: id, allowedPatients: try access.allowedPatients(for: decision))
                guard !resources.isEmpty else { throw FHIRError.notFound("Patient", id) }
                record.resources = resources.map { "\($0.type)/\($0.id)" }
                let bundle = SearchBundle(
                    baseURL: Self.baseURL(request), type: "Patient", query: nil, total: resources.count,
                    resources: resources, selfLink: Self.baseURL(request) + "/Patient/\(id)/$everything")
                return Response.json(200, bundle.json(), contentType: Self.contentType)
            }
        }
    }

    // MARK: - Transaction

    func transaction(_ request: Request) throws -> Response {
        try audited(request, event: "fhir.transaction", action: .importBundle) { caller, record in
            try transaction(request, caller: caller, record: &record)
        }
    }

    private func transaction(_ request: Request, caller: Caller, record: inout AccessRecord) throws -> Response {
        let mediaType = request.mediaType
        guard mediaType == "application/fhir+json" || mediaType == "application/json" else {
            throw FHIRError(
                status: 415, issueCode: "not-supported", detail: "Send the Bundle as application/fhir+json.")
        }
        return try pool.with { session in
            let access = try self.access(session, caller, request, &record)
            let decision = try access.decide(.importBundle, patientID: nil)
            record.decision = decision
            guard decision.allowed else { throw FHIRAccess.refusal(decision) }
            let report: ImportReport
            do {
                report = try session.records.importBundle(bytes: request.body)
            } catch let error as StoreError where error.code == .malformedBundle {
                throw FHIRError.invalid(error.message)
            }
            record.resources = report.resources.map { "\($0.type)/\($0.id)" }
            return Response.json(200, TransactionResponse.json(report), contentType: Self.contentType)
        }
    }
}

extension FHIRRoutes {
    /// Counts a denial; a user collecting many in a short window raises access.denied_burst.
    func noteDenial(_ request: Request, _ caller: Caller) throws {
        let actor = caller.effectiveAccount.username
        guard denials.recordDenial(actor, now: clock.unixSeconds()) else { return }
        var payload = JSONObjectWriter()
        payload.add("user", actor)
        payload.add("proxy", caller.onBehalfOf != nil ? caller.account.username : nil)
        payload.add("denials", Int64(denials.threshold))
        payload.add("window_seconds", denials.windowSeconds)
        payload.add("request_id", request.requestID)
        try pool.with { session in
            try session.database.transaction {
                try alerts.enqueue(WebhookEventType.accessDeniedBurst, payload: payload, in: session.database)
            }
        }
        alerts.deliverSoon()
    }
}

/// What a FHIR handler decided and disclosed, for its audit entry.
struct AccessRecord {
    var decision: Decision?
    var patient: String?
    var resources: [String] = []
    /// The break-glass grant the request named, when it exists.
    var namedGrant: Grant?
}

extension FHIRRoutes {
    /// Runs a handler and writes its audit entry before the response can leave: allowed with
    /// the exact resources returned, denied with the rule, or an error with its status (see
    /// `AuditTrail.Outcome`; a request the policy allowed that then failed is an error). An
    /// entry for a request that was not answered says what was asked for in
    /// `details.requested`, since it names no resource. If the entry cannot be made durable
    /// the request fails with 503 and nothing is disclosed. A disclosure's entry is awaited
    /// through the response's gate, not by this thread.
    func audited(
        _ request: Request, event: String, action: Action, details: [String: String] = [:],
        requested: [String] = [], _ body: (Caller, inout AccessRecord) throws -> Response
    ) throws -> Response {
        let caller = try request.caller
        var record = AccessRecord()
        func entry(_ status: Int, refused: Bool = false, resources: [String] = []) -> AuditEntry {
            var entry = trail.entry(
                request, caller: caller, event: event, action: action.name, status: status,
                refused: refused || record.decision?.allowed == false, decision: record.decision,
                patient: record.patient, resources: resources, details: details)
            // Built only for a refused request: an answered one names its resources.
            if status >= 400, !requested.isEmpty { entry.details["requested"] = Self.requested(requested) }
            Self.noteBreakGlass(request, record, in: &entry)
            return entry
        }
        let response: Response
        do {
            response = try body(caller, &record)
        } catch let error as any HTTPResponseError {
            let failed = entry(error.status, refused: error is Denial)
            try trail.record(failed)
            if failed.outcome == AuditTrail.Outcome.denied.rawValue {
                try noteDenial(request, caller)
            }
            throw error
        } catch {
            try trail.record(entry(500))
            throw error
        }
        let allowed = entry(response.status, resources: record.resources)
        var gated = response
        let requestID = request.requestID
        gated.gate = trail.gate(allowed) {
            OperationOutcomeRenderer().render(AuditUnavailable(cause: "commit"), requestID: requestID)
        }
        return gated
    }
}

extension FHIRRoutes {
    /// Puts what a request said about break-glass into its entry: the grant it named, also when
    /// the grant did not cover it (so a search by grant finds refused reuse of an ended one),
    /// and, when the grant was what allowed it, the reason and justification given for it.
    static func noteBreakGlass(_ request: Request, _ record: AccessRecord, in entry: inout AuditEntry) {
        guard let named = request.headers["X-Break-Glass"] else { return }
        guard GrantStore.isWellFormedID(named) else {
            entry.details["break_glass"] = "malformed grant id"
            return
        }
        if entry.grant == nil { entry.grant = named }
        if let grant = record.namedGrant, grant.id == record.decision?.grantID {
            entry.reason = grant.reason.rawValue
            entry.justification = grant.justification
        }
    }
}

extension Array {
    /// This array, or `replacement` when it is empty.
    func ifEmpty(_ replacement: [Element]) -> [Element] { isEmpty ? replacement : self }
}
