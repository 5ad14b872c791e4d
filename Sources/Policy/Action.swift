/// What a request asks to do, as the router understood it.
///
/// The caller maps each route to exactly one action before any data is touched; a route with no
/// action here is not a policy question (health checks, login) or is denied by default.
public enum Action: Sendable, Hashable {
    /// `GET /fhir/{type}/{id}`.
    case readResource(type: String)
    /// `GET /fhir/{type}?…`; the request's `patientID` is the `patient=` (or `_id=` for Patient)
    /// parameter when the search names one patient, nil when it spans patients.
    case searchResources(type: String)
    /// `GET /fhir/Patient/{id}/$everything`.
    case patientEverything
    /// `POST /fhir` with a transaction Bundle, or an import over HTTP.
    case importBundle
    /// `GET /fhir/metadata`.
    case readCapabilities
    /// `POST /break-glass`.
    case activateBreakGlass
    /// `GET /break-glass`: the caller's own grants, or everyone's for a security
    /// administrator.
    case listOwnGrants
    /// `DELETE /break-glass/{id}` for a grant held by `holder`.
    case endGrant(holder: String)
    /// `GET /reviews`.
    case listReviews
    /// `POST /reviews/{grant id}` for a grant held by `holder`.
    case reviewGrant(holder: String)
    /// `GET /audit/events`, `GET /audit/events/{seq}`.
    case queryAudit
    /// `GET /audit/checkpoints`: the signed checkpoints, which an auditor copies off the machine.
    case readCheckpoints
    /// `GET /audit/verify`.
    case verifyAudit
    /// `GET /audit/export`.
    case exportAudit
    /// `GET /audit/disclosures?patient=`: the accounting of disclosures.
    case readDisclosures
    /// Account and service-account administration.
    case manageUsers
    /// Webhook subscriber administration.
    case manageWebhooks
    /// Reading webhook deliveries that exhausted their retries.
    case viewDeadLetters

    /// A stable dotted name for the audit log and metrics; never contains an id.
    public var name: String {
        switch self {
        case .readResource: "fhir.read"
        case .searchResources: "fhir.search"
        case .patientEverything: "fhir.everything"
        case .importBundle: "fhir.import"
        case .readCapabilities: "fhir.capabilities"
        case .activateBreakGlass: "break_glass.activate"
        case .listOwnGrants: "break_glass.list"
        case .endGrant: "break_glass.end"
        case .listReviews: "review.list"
        case .reviewGrant: "review.submit"
        case .queryAudit: "audit.query"
        case .readCheckpoints: "audit.checkpoints"
        case .verifyAudit: "audit.verify"
        case .exportAudit: "audit.export"
        case .readDisclosures: "audit.disclosures"
        case .manageUsers: "admin.users"
        case .manageWebhooks: "admin.webhooks"
        case .viewDeadLetters: "admin.dead_letters"
        }
    }

    /// The FHIR resource type a read, search or `$everything` touches; nil for other actions.
    public var resourceType: String? {
        switch self {
        case .readResource(let type), .searchResources(let type): type
        case .patientEverything: "Patient"
        default: nil
        }
    }

    /// True for the actions an ehr-system may perform on behalf of an end user: reading FHIR
    /// data, the capability statement, and the break-glass calls of that user. Audit, review,
    /// administration and import are never proxied, whatever the named user's role.
    public var isProxiable: Bool {
        switch self {
        case .readResource, .searchResources, .patientEverything, .readCapabilities,
            .activateBreakGlass, .listOwnGrants, .endGrant:
            true
        default:
            false
        }
    }
}
