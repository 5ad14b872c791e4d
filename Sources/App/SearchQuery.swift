import Server
import Store

/// The search parameters of one FHIR search, checked against what this server supports.
///
/// Unsupported parameters are refused rather than ignored: a clinician who believes a search
/// was filtered by code but receives everything is worse off than one told to rephrase.
struct SearchQuery {
    var patientParameters = SearchParameters()
    /// The `patient` (or `subject=Patient/…`) of a clinical search.
    var patient: String?
    var count = FHIRRoutes.defaultPageSize
    var offset = 0
    /// The accepted parameters in their original order, for paging links.
    var echoed: [(name: String, value: String)] = []

    static let patientParameters: Set<String> = ["name", "family", "given", "birthdate", "gender", "identifier"]
    static let maximumOffset = 100_000

    /// The `_format` values that name what is served: JSON.
    static func isJSONFormat(_ value: String) -> Bool {
        value == "json" || value.hasPrefix("application/fhir+json") || value == "application/json"
    }

    init(_ items: [(name: String, value: String)], type: String) throws {
        for (name, value) in items {
            switch name {
            case "_count":
                guard let n = Int(value), (0...SearchParameters.maximumCount).contains(n) else {
                    throw FHIRError.invalid("_count must be an integer from 0 to \(SearchParameters.maximumCount).")
                }
                count = n
                continue
            case "_offset":
                guard let n = Int(value), (0...Self.maximumOffset).contains(n) else {
                    throw FHIRError.invalid("_offset must be an integer from 0 to \(Self.maximumOffset).")
                }
                offset = n
                continue
            case "_format":
                guard Self.isJSONFormat(value) else {
                    throw FHIRError.notSupported("Only JSON is served.")
                }
                continue
            default:
                break
            }
            if type == "Patient" {
                guard Self.patientParameters.contains(name) else {
                    throw FHIRError.notSupported(
                        "Unsupported search parameter. Patient supports name, family, given, birthdate, gender, "
                            + "identifier, _count and _offset.")
                }
                switch name {
                case "name": patientParameters.name.append(value)
                case "family": patientParameters.family.append(value)
                case "given": patientParameters.given.append(value)
                case "birthdate": patientParameters.birthdate.append(value)
                case "gender": patientParameters.gender.append(value)
                default: patientParameters.identifier.append(value)
                }
            } else {
                guard name == "patient" || name == "subject" else {
                    throw FHIRError.notSupported(
                        "Unsupported search parameter. Clinical types support patient (or subject=Patient/<id>), "
                            + "_count and _offset.")
                }
                let reference = value.hasPrefix("Patient/") ? String(value.dropFirst("Patient/".count)) : value
                guard name == "patient" || value.hasPrefix("Patient/"), FHIRSyntax.isValidID(reference) else {
                    throw FHIRError.invalid("patient must be a Patient id or a Patient/<id> reference.")
                }
                guard patient == nil || patient == reference else {
                    throw FHIRError.invalid("A search may name one patient.")
                }
                patient = reference
            }
            echoed.append((name, value))
        }
        patientParameters.count = count
        patientParameters.offset = offset
    }
}
