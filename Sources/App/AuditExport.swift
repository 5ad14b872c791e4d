import Audit
import Auth
import Policy
import Support

/// The audit log in the forms its readers ingest: the canonical entries as NDJSON, FHIR R4
/// AuditEvent (IHE Basic Audit Log Patterns), and ArcSight CEF lines for a SIEM over syslog.
enum AuditExportFormat: String, CaseIterable {
    case ndjson, fhir, cef

    var contentType: String {
        switch self {
        case .ndjson: "application/x-ndjson"
        case .fhir: "application/fhir+ndjson"
        case .cef: "text/plain; charset=utf-8"
        }
    }

    /// One line, newline included.
    func line(_ entry: AuditEntry) throws -> [UInt8] {
        switch self {
        case .ndjson: return try AuditCanonicalEncoder.encode(entry) + [0x0A]
        case .fhir: return Array((AuditEventMapping.json(entry) + "\n").utf8)
        case .cef: return Array((CEFLine.format(entry) + "\n").utf8)
        }
    }
}

/// R4 AuditEvent for an entry, following IHE BALP's coding (type, subtype, outcome, agents,
/// source, patient and data entities, BTG purpose for break-glass).
enum AuditEventMapping {
    static let dicom = "http://dicom.nema.org/resources/ontology/DCM"

    static func json(_ entry: AuditEntry) -> String {
        let (type, subtype, action) = classify(entry)
        var out = "{\"resourceType\":\"AuditEvent\",\"id\":" + JSONText.quoted("phigate-\(entry.seq)")
        out += ",\"type\":" + type + ",\"subtype\":[" + subtype + "]"
        out += ",\"action\":" + JSONText.quoted(action)
        out +=
            ",\"recorded\":"
            + JSONText.quoted(
                WallClock.iso8601(
                    unixSeconds: entry.time / 1000,
                    milliseconds: Int(entry.time % 1000)))
        out += ",\"outcome\":" + JSONText.quoted(outcomeCode(entry))
        var description = entry.event
        if let rule = entry.rule { description += " " + rule }
        out += ",\"outcomeDesc\":" + JSONText.quoted(description)
        if let purpose = entry.purpose {
            out +=
                ",\"purposeOfEvent\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\""
            out += ",\"code\":" + JSONText.quoted(purpose) + "}]}]"
        }
        out += ",\"agent\":[" + agents(entry).joined(separator: ",") + "]"
        out += ",\"source\":{\"site\":\"phigate\",\"observer\":{\"display\":\"phigate\"},\"type\":[{\"system\":"
        out += "\"http://terminology.hl7.org/CodeSystem/security-source-type\","
        out += "\"code\":\"4\",\"display\":\"Application Server\"}]}"
        let entities = entities(entry)
        if !entities.isEmpty { out += ",\"entity\":[" + entities.joined(separator: ",") + "]" }
        return out + "}"
    }

    /// AuditEvent.outcome: 0 success, 4 minor failure (a refusal or a 4xx, what the client got
    /// wrong), 8 serious failure (a 5xx, or an error without an HTTP status). The HTTP status
    /// decides over the recorded outcome, so an allowed request that failed is not a success.
    static func outcomeCode(_ entry: AuditEntry) -> String {
        if entry.outcome == "denied" { return "4" }
        if entry.status >= 500 { return "8" }
        if entry.status >= 400 { return "4" }
        return entry.outcome == "allowed" ? "0" : "8"
    }

    static func coding(_ system: String, _ code: String, _ display: String) -> String {
        "{\"system\":" + JSONText.quoted(system) + ",\"code\":" + JSONText.quoted(code) + ",\"display\":"
            + JSONText.quoted(display) + "}"
    }

    /// (type, subtype codings, action code) for the entry's event.
    private static func classify(_ entry: AuditEntry) -> (String, String, String) {
        let rest = coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation")
        let interaction = "http://hl7.org/fhir/restful-interaction"
        switch entry.event {
        case "fhir.read": return (rest, coding(interaction, "read", "read"), "R")
        case "fhir.search": return (rest, coding(interaction, "search-type", "search type"), "E")
        case "fhir.everything": return (rest, coding(interaction, "operation", "operation"), "E")
        case "fhir.transaction": return (rest, coding(interaction, "transaction", "transaction"), "C")
        case "auth.login", "auth.rejected":
            return (coding(dicom, "110114", "User Authentication"), coding(dicom, "110122", "Login"), "E")
        case "auth.logout":
            return (coding(dicom, "110114", "User Authentication"), coding(dicom, "110123", "Logout"), "E")
        case "server.start":
            return (coding(dicom, "110100", "Application Activity"), coding(dicom, "110120", "Application Start"), "E")
        case "server.stop", "server.unclean_shutdown":
            return (coding(dicom, "110100", "Application Activity"), coding(dicom, "110121", "Application Stop"), "E")
        case "audit.index_rebuilt":
            return (coding(dicom, "110113", "Security Alert"), coding(dicom, "110113", "Security Alert"), "E")
        case _ where entry.event.hasPrefix("audit."):
            return (coding(dicom, "110112", "Query"), coding(dicom, "110112", "Query"), "E")
        default:
            return (coding(dicom, "110113", "Security Alert"), coding(dicom, "110113", "Security Alert"), "E")
        }
    }

    private static func agents(_ entry: AuditEntry) -> [String] {
        let roleType = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
        // The gateway itself and ehr-systems are applications; who sent an unauthenticated
        // request is unknown, so it gets no type rather than a guess.
        var user = "{"
        if entry.actor == Username.Reserved.system || entry.roles == [Role.ehrSystem.rawValue] {
            user += "\"type\":{\"coding\":[" + coding(dicom, "110150", "Application") + "]},"
        } else if entry.actor != Username.Reserved.anonymous {
            user += "\"type\":{\"coding\":[" + coding(roleType, "humanuser", "human user") + "]},"
        }
        user +=
            "\"who\":{\"identifier\":{\"system\":\"urn:phigate:user\",\"value\":" + JSONText.quoted(entry.actor) + "}}"
        user += ",\"requestor\":true"
        if !entry.roles.isEmpty {
            user +=
                ",\"role\":[" + entry.roles.map { "{\"text\":" + JSONText.quoted($0) + "}" }.joined(separator: ",")
                + "]"
        }
        if let client = entry.client,
            let host = client.split(separator: ":").dropLast().joined(separator: ":").nilIfEmpty
        {
            user += ",\"network\":{\"address\":" + JSONText.quoted(host.trimming("[]")) + ",\"type\":\"2\"}"
        }
        var agents = [user + "}"]
        if let proxy = entry.proxy {
            var system = "{\"type\":{\"coding\":[" + coding(roleType, "dataprocessor", "data processor") + "]}"
            system +=
                ",\"who\":{\"identifier\":{\"system\":\"urn:phigate:user\",\"value\":" + JSONText.quoted(proxy) + "}}"
            agents.append(system + ",\"requestor\":false}")
        }
        return agents
    }

    private static func entities(_ entry: AuditEntry) -> [String] {
        let objectRole = "http://terminology.hl7.org/CodeSystem/object-role"
        var out: [String] = []
        if let patient = entry.patient {
            out.append(
                "{\"what\":{\"reference\":" + JSONText.quoted("Patient/" + patient) + "},\"role\":"
                    + coding(objectRole, "1", "Patient") + "}")
        }
        for resource in entry.resources where resource != "Patient/" + (entry.patient ?? "") {
            out.append(
                "{\"what\":{\"reference\":" + JSONText.quoted(resource) + "},\"role\":"
                    + coding(objectRole, "4", "Domain Resource") + "}")
        }
        if let grant = breakGlass(entry) { out.append(grant) }
        if let requestID = entry.requestID {
            out.append(
                "{\"what\":{\"identifier\":{\"system\":\"urn:phigate:request-id\",\"value\":"
                    + JSONText.quoted(requestID) + "}},\"type\":"
                    + coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object") + "}")
        }
        return out
    }
}

extension AuditEventMapping {
    /// The break-glass grant as an entity: the grant id as its identifier, the reason code and
    /// the free-text justification as details. Nil when the entry carries none of them.
    static func breakGlass(_ entry: AuditEntry) -> String? {
        let grant = entry.grant?.nilIfEmpty
        var details: [String] = []
        for (type, value) in [("reason", entry.reason), ("justification", entry.justification)] {
            // FHIR strings may not be empty or blank; such a value carries nothing to export.
            guard let value, !value.allSatisfy(\.isWhitespace) else { continue }
            details.append("{\"type\":" + JSONText.quoted(type) + ",\"valueString\":" + JSONText.quoted(value) + "}")
        }
        guard grant != nil || !details.isEmpty else { return nil }
        var out = "{"
        if let grant {
            out += "\"what\":{\"identifier\":{\"system\":\"urn:phigate:break-glass-grant\",\"value\":"
            out += JSONText.quoted(grant) + "}},"
        }
        out += "\"type\":" + coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object")
        out += ",\"description\":\"break-glass grant\""
        if !details.isEmpty { out += ",\"detail\":[" + details.joined(separator: ",") + "]" }
        return out + "}"
    }
}

/// ArcSight Common Event Format, one line per entry.
enum CEFLine {
    static func format(_ entry: AuditEntry) -> String {
        let severity: Int
        switch (entry.event, entry.outcome) {
        case (let event, _) where event.hasPrefix("break_glass"): severity = 8
        case ("auth.lockout", _), ("server.unclean_shutdown", _), ("audit.index_rebuilt", "error"): severity = 7
        case (_, "error"): severity = 6
        case (_, "denied"): severity = 5
        default: severity = 3
        }
        var header = "CEF:0|phigate|phigate|" + header(GatewayVersion.current) + "|" + header(entry.event) + "|"
        header += self.header(entry.action) + "|" + String(severity) + "|"
        var fields: [(String, String)] = [
            ("rt", String(entry.time)), ("externalId", String(entry.seq)), ("suser", entry.actor),
            ("act", entry.action), ("outcome", entry.outcome), ("cn1Label", "status"), ("cn1", String(entry.status)),
        ]
        if !entry.roles.isEmpty { fields.append(("spriv", entry.roles.joined(separator: ","))) }
        if let proxy = entry.proxy { fields += [("cs6Label", "proxy"), ("cs6", proxy)] }
        if let rule = entry.rule { fields += [("cs1Label", "rule"), ("cs1", rule)] }
        if let patient = entry.patient { fields.append(("duid", patient)) }
        if let purpose = entry.purpose { fields += [("cs2Label", "purpose"), ("cs2", purpose)] }
        if let grant = entry.grant { fields += [("cs3Label", "grant"), ("cs3", grant)] }
        if let requestID = entry.requestID { fields += [("cs4Label", "request_id"), ("cs4", requestID)] }
        if !entry.resources.isEmpty {
            fields += [("cs5Label", "resources"), ("cs5", entry.resources.joined(separator: ","))]
        }
        if let client = entry.client {
            let host = client.split(separator: ":").dropLast().joined(separator: ":").trimming("[]")
            if !host.isEmpty { fields.append(("src", host)) }
        }
        if let agent = entry.userAgent { fields.append(("requestClientApplication", agent)) }
        if let reason = entry.reason { fields.append(("reason", reason)) }
        if let justification = entry.justification {
            fields += [("flexString1Label", "justification"), ("flexString1", justification)]
        }
        return header + fields.map { $0.0 + "=" + value($0.1) }.joined(separator: " ")
    }

    /// Header fields escape backslash and pipe; line breaks become spaces.
    static func header(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            case "\n", "\r": out += " "
            default: out.append(c)
            }
        }
        return out
    }

    /// Extension values escape backslash, equals and line breaks.
    static func value(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "=": out += "\\="
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }

    func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
