import Policy
import Support

/// The CapabilityStatement served at /fhir/metadata: what this server really supports.
///
/// Public (no token), as FHIR clients fetch it before they authenticate; it names no patient.
enum CapabilityStatement {
    static let patientSearchParameters: [(String, String)] = [
        ("name", "string"), ("family", "string"), ("given", "string"), ("birthdate", "date"),
        ("gender", "token"), ("identifier", "token"),
    ]

    static func json(baseURL: String) -> String {
        var resources: [String] = []
        for type in ResourceClass.patientDataTypes.union(ResourceClass.directoryDataTypes).sorted() {
            var entry = "{\"type\":" + JSONText.quoted(type)
            entry += ",\"interaction\":[{\"code\":\"read\"},{\"code\":\"search-type\"}]"
            var parameters: [(String, String)] = []
            if type == "Patient" {
                parameters = patientSearchParameters
            } else if ResourceClass.isPatientData(type) {
                parameters = [("patient", "reference"), ("subject", "reference")]
            }
            parameters += [("_count", "number"), ("_offset", "number")]
            entry += ",\"searchParam\":["
            entry += parameters.map {
                "{\"name\":" + JSONText.quoted($0.0) + ",\"type\":" + JSONText.quoted($0.1) + "}"
            }
            .joined(separator: ",")
            entry += "]"
            if type == "Patient" {
                entry += ",\"operation\":[{\"name\":\"everything\","
                entry += "\"definition\":\"http://hl7.org/fhir/OperationDefinition/Patient-everything\"}]"
            }
            resources.append(entry + "}")
        }
        var out = "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":\"2026-12-01\""
        out += ",\"kind\":\"instance\",\"fhirVersion\":\"4.0.1\",\"format\":[\"application/fhir+json\",\"json\"]"
        out += ",\"software\":{\"name\":\"phigate\",\"version\":" + JSONText.quoted(GatewayVersion.current) + "}"
        out +=
            ",\"implementation\":{\"description\":\"phigate access gateway\",\"url\":" + JSONText.quoted(baseURL) + "}"
        out += ",\"rest\":[{\"mode\":\"server\",\"security\":{\"description\":"
        out += JSONText.quoted(
            "Bearer tokens from POST /auth/login. Clinicians read patients they have a care relationship "
                + "with; other access needs break-glass. Every access is audited.")
        out += "},\"resource\":[" + resources.joined(separator: ",") + "]"
        out += ",\"interaction\":[{\"code\":\"transaction\"}]}]}"
        return out
    }
}

/// The version every surface reports (command line, CapabilityStatement).
public enum GatewayVersion {
    public static let current = "0.1.0"
}
