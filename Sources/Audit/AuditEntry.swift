/// One audit record: who did what to which patient's data, and what phigate decided.
///
/// The request path builds one entry per access decision and hands it to ``AuditWriter``,
/// which assigns `seq` and makes it durable before any PHI is sent. Entries hold identifiers
/// (user names, patient and resource ids, grant ids), never resource bodies.
///
/// Its canonical bytes (``AuditCanonicalEncoder``) are what the hash chain covers. Optional
/// fields that are nil or empty, and lists or maps that are empty, are left out of those bytes,
/// so `nil` and empty are the same entry (decoding gives nil and empty collections back).
/// Integers are the only numbers an entry holds.
public struct AuditEntry: Sendable, Hashable {
    /// Position in the log, from 1 without gaps. Assigned by the writer; ignored on append.
    public var seq: Int64
    /// When the decision was made, in Unix milliseconds.
    public var time: Int64
    /// What happened: "fhir.read", "fhir.search", "auth.login", "auth.lockout",
    /// "break_glass.activate", "review.complete", "admin.user_add", "server.start", ...
    public var event: String
    /// The user or service account the decision was about (the effective user when proxied).
    public var actor: String
    /// The actor's roles at the time of the decision.
    public var roles: [String]
    /// The ehr-system account that proxied the request, if any.
    public var proxy: String?
    /// The operation asked for, e.g. "read", "search", "login".
    public var action: String
    /// "allowed", "denied" or "error".
    public var outcome: String
    /// The HTTP status the request ended with.
    public var status: Int
    /// The policy rule that decided, when the policy engine decided.
    public var rule: String?
    /// The patient id the request concerned, if any.
    public var patient: String?
    /// The exact resources disclosed, as "Type/id".
    public var resources: [String]
    /// Purpose of use as an HL7 v3 PurposeOfUse code (`Policy.Purpose`): "TREAT" for treatment,
    /// "BTG" for break-glass, "HOPERAT", "HCOMPL" or "HSYSADMIN"; nil when none was decided.
    public var purpose: String?
    /// The break-glass grant id the request used.
    public var grant: String?
    /// The break-glass reason code.
    public var reason: String?
    /// The break-glass justification text as the user wrote it.
    public var justification: String?
    /// The request id (X-Request-Id).
    public var requestID: String?
    /// The client address.
    public var client: String?
    /// The client's User-Agent header.
    public var userAgent: String?
    /// Further event-specific facts, as text; encoded with sorted keys.
    public var details: [String: String]

    public init(
        seq: Int64 = 0, time: Int64, event: String, actor: String, roles: [String] = [],
        proxy: String? = nil, action: String, outcome: String, status: Int,
        rule: String? = nil, patient: String? = nil, resources: [String] = [],
        purpose: String? = nil, grant: String? = nil, reason: String? = nil,
        justification: String? = nil, requestID: String? = nil, client: String? = nil,
        userAgent: String? = nil, details: [String: String] = [:]
    ) {
        self.seq = seq
        self.time = time
        self.event = event
        self.actor = actor
        self.roles = roles
        self.proxy = proxy
        self.action = action
        self.outcome = outcome
        self.status = status
        self.rule = rule
        self.patient = patient
        self.resources = resources
        self.purpose = purpose
        self.grant = grant
        self.reason = reason
        self.justification = justification
        self.requestID = requestID
        self.client = client
        self.userAgent = userAgent
        self.details = details
    }
}

extension AuditEntry {
    /// The JSON member names of the canonical form, one per field.
    enum Key {
        static let seq = "seq"
        static let time = "time"
        static let event = "event"
        static let actor = "actor"
        static let roles = "roles"
        static let proxy = "proxy"
        static let action = "action"
        static let outcome = "outcome"
        static let status = "status"
        static let rule = "rule"
        static let patient = "patient"
        static let resources = "resources"
        static let purpose = "purpose"
        static let grant = "grant"
        static let reason = "reason"
        static let justification = "justification"
        static let requestID = "request_id"
        static let client = "client"
        static let userAgent = "user_agent"
        static let details = "details"
    }

    /// The entry as a JSON object value, with absent optional fields left out.
    var jsonValue: AuditJSON {
        .object(Dictionary(uniqueKeysWithValues: jsonMembers))
    }

    /// The members of the entry's JSON object, unordered, absent optional fields left out.
    var jsonMembers: [(String, AuditJSON)] {
        var members: [(String, AuditJSON)] = [
            (Key.seq, .integer(seq)),
            (Key.time, .integer(time)),
            (Key.event, .string(event)),
            (Key.actor, .string(actor)),
            (Key.action, .string(action)),
            (Key.outcome, .string(outcome)),
            (Key.status, .integer(Int64(status))),
        ]
        members.reserveCapacity(20)
        let optionals: [(String, String?)] = [
            (Key.proxy, proxy), (Key.rule, rule), (Key.patient, patient),
            (Key.purpose, purpose), (Key.grant, grant), (Key.reason, reason),
            (Key.justification, justification), (Key.requestID, requestID),
            (Key.client, client), (Key.userAgent, userAgent),
        ]
        for (key, value) in optionals {
            if let value, !value.isEmpty {
                members.append((key, .string(value)))
            }
        }
        if !roles.isEmpty {
            members.append((Key.roles, .array(roles.map(AuditJSON.string))))
        }
        if !resources.isEmpty {
            members.append((Key.resources, .array(resources.map(AuditJSON.string))))
        }
        if !details.isEmpty {
            members.append((Key.details, .object(details.mapValues(AuditJSON.string))))
        }
        return members
    }
}

extension AuditEntry {
    /// The patients whose records this entry concerns: its patient compartment, and every
    /// patient whose own Patient resource it lists (a search that returned several patients
    /// names none of them in `patient`). In order of first appearance, without repeats.
    public var patients: [String] {
        var found: [String] = []
        if let patient, !patient.isEmpty { found.append(patient) }
        for resource in resources where resource.hasPrefix(Self.patientPrefix) {
            let id = String(resource.dropFirst(Self.patientPrefix.count))
            if !id.isEmpty && !found.contains(id) { found.append(id) }
        }
        return found
    }

    /// Whether this entry concerns the records of `patient` (see ``patients``).
    public func concerns(patient id: String) -> Bool {
        guard !id.isEmpty else { return false }
        return patient == id || resources.contains(Self.patientPrefix + id)
    }

    /// The resources of this entry that belong to `patient`: all of them when the entry is
    /// about that patient's compartment, else only the patient's own Patient resource. An
    /// accounting given to one patient must not list other patients' records.
    public func resources(of id: String) -> [String] {
        if !id.isEmpty && patient == id { return resources }
        return resources.filter { $0 == Self.patientPrefix + id }
    }

    private static let patientPrefix = "Patient/"
}
