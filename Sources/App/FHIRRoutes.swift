import Auth
import Policy
import Server
import Store
import Support

/// The FHIR R4 REST surface: read, search, $everything, transaction and the capability
/// statement. Every record access goes through `FHIRAccess` before any store read of PHI.
struct FHIRRoutes {
    static let contentType = "application/fhir+json; charset=utf-8"
    static let defaultPageSize = 50

    let pool: RecordsPool
    let clock: WallClock

    func routes(authentication: AuthenticationMiddleware) -> [Route] {
        let renderer = OperationOutcomeRenderer()
        let guarded = [authentication] as [any Middleware]
        return [
            Route("GET", "/fhir/metadata", errorRenderer: renderer) { request in
                Response.json(200, CapabilityStatement.json(baseURL: Self.baseURL(request)), contentType: Self.contentType)
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

    /// "http://host/fhir", from the Host header the parser already validated.
    static func baseURL(_ request: Request) -> String {
        "http://" + (request.headers["Host"] ?? "localhost") + "/fhir"
    }

    private static func checkedType(_ type: String) throws -> String {
        guard FHIRSyntax.isValidTypeName(type), ResourceClass.of(type) != .unsupported else {
            throw FHIRError.notSupported("This server does not serve that resource type.")
        }
        return type
    }

    // MARK: - Read

    func read(_ request: Request) throws -> Response {
        let type = try Self.checkedType(request.pathParameters["type"]!)
        let id = request.pathParameters["id"]!
        guard FHIRSyntax.isValidID(id) else { throw FHIRError.invalid("The id is not a valid FHIR id.") }
        let caller = try request.caller
        return try pool.with { session in
            let access = FHIRAccess(session: session, caller: caller, now: clock.unixSeconds())
            let action = Action.readResource(type: type)
            let stored = try session.records.storedResource(type: type, id: id)
            let patients: [String]
            if type == "Patient" {
                patients = [id]
            } else if let stored {
                patients = try session.records.patientCompartments(of: stored.type, id: stored.id)
            } else {
                // A missing resource has no compartment; deciding as for an unknown patient
                // gives the same refusal an existing one would get.
                patients = ResourceClass.isPatientData(type) ? [Self.unknownPatient] : []
            }
            let decision = try access.decide(action, patients: patients)
            guard decision.allowed else { throw FHIRAccess.refusal(decision) }
            guard let stored else { throw FHIRError.notFound(type, id) }
            var response = Response.json(200, stored.servedJSON(), contentType: Self.contentType)
            response.headers.add(name: "ETag", value: "W/\"\(stored.version)\"")
            return response
        }
    }

    /// A compartment id no resource can have (FHIR ids exclude '~'), standing in for the
    /// patient of a resource that does not exist.
    static let unknownPatient = "~unknown"

    // MARK: - Search

    func search(_ request: Request) throws -> Response {
        let type = try Self.checkedType(request.pathParameters["type"]!)
        guard let items = request.queryItems else { throw FHIRError.invalid("The query string is malformed.") }
        let caller = try request.caller
        var query = try SearchQuery(items, type: type)
        return try pool.with { session in
            let access = FHIRAccess(session: session, caller: caller, now: clock.unixSeconds())
            let action = Action.searchResources(type: type)
            let result: SearchResult
            if type == "Patient" {
                let decision = try access.decide(action, patientID: nil)
                guard decision.allowed else { throw FHIRAccess.refusal(decision) }
                if decision.rule == PolicyRule.clinicianPatientSearchFiltered.rawValue {
                    query.patientParameters.restrictToIDs = try access.visiblePatients(caller.effectiveAccount)
                }
                result = try session.records.searchPatients(query.patientParameters)
            } else {
                let decision = try access.decide(action, patientID: query.patient)
                guard decision.allowed else { throw FHIRAccess.refusal(decision) }
                result = try session.records.search(
                    type: type, patient: query.patient, count: query.count, offset: query.offset)
            }
            let bundle = SearchBundle(
                baseURL: Self.baseURL(request), type: type, query: query, total: result.total,
                resources: result.resources)
            return Response.json(200, bundle.json(), contentType: Self.contentType)
        }
    }

    // MARK: - $everything

    func everything(_ request: Request) throws -> Response {
        let id = request.pathParameters["id"]!
        guard FHIRSyntax.isValidID(id) else { throw FHIRError.invalid("The id is not a valid FHIR id.") }
        let caller = try request.caller
        return try pool.with { session in
            let access = FHIRAccess(session: session, caller: caller, now: clock.unixSeconds())
            let decision = try access.decide(.patientEverything, patientID: id)
            guard decision.allowed else { throw FHIRAccess.refusal(decision) }
            let resources = try session.records.everything(patient: id)
            guard !resources.isEmpty else { throw FHIRError.notFound("Patient", id) }
            let bundle = SearchBundle(
                baseURL: Self.baseURL(request), type: "Patient", query: nil, total: resources.count,
                resources: resources, selfLink: Self.baseURL(request) + "/Patient/\(id)/$everything")
            return Response.json(200, bundle.json(), contentType: Self.contentType)
        }
    }

    // MARK: - Transaction

    func transaction(_ request: Request) throws -> Response {
        let caller = try request.caller
        let mediaType = request.headers["Content-Type"]?.split(separator: ";").first?.trimmingSpaces().lowercased()
        guard mediaType == "application/fhir+json" || mediaType == "application/json" else {
            throw FHIRError(status: 415, issueCode: "not-supported", detail: "Send the Bundle as application/fhir+json.")
        }
        return try pool.with { session in
            let access = FHIRAccess(session: session, caller: caller, now: clock.unixSeconds())
            let decision = try access.decide(.importBundle, patientID: nil)
            guard decision.allowed else { throw FHIRAccess.refusal(decision) }
            let report: ImportReport
            do {
                report = try session.records.importBundle(bytes: request.body)
            } catch let error as StoreError where error.code == .malformedBundle {
                throw FHIRError.invalid(error.message)
            }
            return Response.json(200, TransactionResponse.json(report), contentType: Self.contentType)
        }
    }
}
