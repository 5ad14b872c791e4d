import Foundation

/// What the index tables record about one stored resource.
struct ResourceIndex {
    struct Identifier: Hashable {
        /// Empty when the identifier has no system.
        let system: String
        let value: String
    }

    struct Participation: Hashable {
        let patient: String
        let practitioner: String
    }

    struct NamePart: Hashable {
        /// family, given, prefix, suffix or text.
        let kind: String
        /// Lowercased and stripped of diacritics (see `ResourceIndexer.fold`).
        let value: String
    }

    var identifiers: [Identifier] = []
    /// The patients whose compartment holds the resource.
    var patients: Set<String> = []
    /// Encounters only: who took part, for whom.
    var participations: Set<Participation> = []
    /// Patients only: the searchable parts of every name.
    var nameParts: Set<NamePart> = []
    var birthDate: FHIRDateRange?
    var gender: String?
}

/// Computes a resource's index rows from its (reference-resolved) JSON.
enum ResourceIndexer {
    static func index(type: String, id: String, resource: JSONObject) -> ResourceIndex {
        var index = ResourceIndex()
        index.identifiers = identifiers(of: resource)
        let value = JSONValue.object(resource)
        if type == "Patient" {
            index.patients = [id]
            indexPatientSearch(value, into: &index)
        } else if let paths = compartmentPaths(for: type) {
            for path in paths {
                for reference in referencedIDs(in: value, path: path, type: "Patient") {
                    index.patients.insert(reference)
                }
            }
        }
        if type == "Encounter" {
            let patients = referencedIDs(in: value, path: ["subject"], type: "Patient")
            let practitioners = referencedIDs(
                in: value, path: ["participant", "individual"], type: "Practitioner")
            for patient in patients {
                for practitioner in practitioners {
                    index.participations.insert(
                        ResourceIndex.Participation(patient: patient, practitioner: practitioner))
                }
            }
        }
        return index
    }

    /// `identifier[]` as (system, value) pairs; identifiers without a value are skipped.
    static func identifiers(of resource: JSONObject) -> [ResourceIndex.Identifier] {
        JSONValue.object(resource).values(at: ["identifier"]).compactMap { identifier in
            guard let value = identifier["value"]?.stringValue else {
                return nil
            }
            let system = identifier["system"]?.stringValue ?? ""
            return ResourceIndex.Identifier(system: system, value: value)
        }
    }

    /// Lowercases and removes diacritics, so that "Müller" is found by "muller" and "MÜLLER".
    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .trimmingCharacters(in: .whitespaces)
    }

    private static func referencedIDs(in resource: JSONValue, path: [String], type: String)
        -> [String]
    {
        resource.values(at: path[...]).compactMap { element in
            guard let reference = element["reference"]?.stringValue,
                let target = FHIRSyntax.relativeReference(reference), target.type == type
            else {
                return nil
            }
            return target.id
        }
    }

    private static func indexPatientSearch(_ patient: JSONValue, into index: inout ResourceIndex) {
        for name in patient.values(at: ["name"]) {
            for kind in ["family", "given", "prefix", "suffix", "text"] {
                for part in name.values(at: [kind]) {
                    guard let text = part.stringValue else {
                        continue
                    }
                    let folded = fold(text)
                    if !folded.isEmpty {
                        index.nameParts.insert(ResourceIndex.NamePart(kind: kind, value: folded))
                    }
                }
            }
        }
        index.birthDate = patient["birthDate"]?.stringValue.flatMap(FHIRDateRange.init)
        index.gender = patient["gender"]?.stringValue
    }

    /// The element paths of the FHIR R4 patient compartment parameters of `type`, nil for
    /// types that never belong to a patient compartment.
    ///
    /// A type the table does not know is treated as patient data reachable through `subject`
    /// or `patient`, so that an unfamiliar resource about a patient is not mistaken for
    /// non-clinical data by an access decision.
    static func compartmentPaths(for type: String) -> [[String]]? {
        if let paths = patientCompartment[type] {
            return paths
        }
        if nonPatientTypes.contains(type) {
            return nil
        }
        return [["subject"], ["patient"]]
    }

    /// Administrative and definitional types outside every patient compartment.
    static let nonPatientTypes: Set<String> = [
        "Organization", "Practitioner", "PractitionerRole", "Location", "Medication",
        "HealthcareService", "Endpoint", "Substance", "ValueSet", "CodeSystem",
        "StructureDefinition", "Questionnaire", "PlanDefinition", "ActivityDefinition",
        "Library", "Measure", "OrganizationAffiliation", "InsurancePlan", "Bundle",
    ]

    /// CompartmentDefinition/patient of FHIR R4, each parameter written as its element path.
    static let patientCompartment: [String: [[String]]] = [
        "Account": [["subject"]],
        "AdverseEvent": [["subject"]],
        "AllergyIntolerance": [["patient"], ["recorder"], ["asserter"]],
        "Appointment": [["participant", "actor"]],
        "AppointmentResponse": [["actor"]],
        "AuditEvent": [["agent", "who"], ["entity", "what"]],
        "Basic": [["subject"], ["author"]],
        "BodyStructure": [["patient"]],
        "CarePlan": [["subject"], ["activity", "detail", "performer"]],
        "CareTeam": [["subject"], ["participant", "member"]],
        "ChargeItem": [["subject"]],
        "Claim": [["patient"], ["payee", "party"]],
        "ClaimResponse": [["patient"]],
        "ClinicalImpression": [["subject"]],
        "Communication": [["subject"], ["sender"], ["recipient"]],
        "CommunicationRequest": [["subject"], ["sender"], ["recipient"], ["requester"]],
        "Composition": [["subject"], ["author"], ["attester", "party"]],
        "Condition": [["subject"], ["asserter"]],
        "Consent": [["patient"]],
        "Coverage": [["policyHolder"], ["subscriber"], ["beneficiary"], ["payor"]],
        "CoverageEligibilityRequest": [["patient"]],
        "CoverageEligibilityResponse": [["patient"]],
        "DetectedIssue": [["patient"]],
        "Device": [["patient"]],
        "DeviceRequest": [["subject"], ["performer"]],
        "DeviceUseStatement": [["subject"]],
        "DiagnosticReport": [["subject"]],
        "DocumentManifest": [["subject"], ["author"], ["recipient"]],
        "DocumentReference": [["subject"], ["author"]],
        "Encounter": [["subject"]],
        "EnrollmentRequest": [["candidate"]],
        "EpisodeOfCare": [["patient"]],
        "ExplanationOfBenefit": [["patient"], ["payee", "party"]],
        "FamilyMemberHistory": [["patient"]],
        "Flag": [["subject"]],
        "Goal": [["subject"]],
        "Group": [["member", "entity"]],
        "ImagingStudy": [["subject"]],
        "Immunization": [["patient"]],
        "ImmunizationEvaluation": [["patient"]],
        "ImmunizationRecommendation": [["patient"]],
        "Invoice": [["subject"], ["recipient"]],
        "List": [["subject"], ["source"]],
        "MeasureReport": [["subject"]],
        "Media": [["subject"], ["operator"]],
        "MedicationAdministration": [["subject"], ["performer", "actor"]],
        "MedicationDispense": [["subject"], ["receiver"]],
        "MedicationRequest": [["subject"]],
        "MedicationStatement": [["subject"]],
        "MolecularSequence": [["patient"]],
        "NutritionOrder": [["patient"]],
        "Observation": [["subject"], ["performer"]],
        "Person": [["link", "target"]],
        "Procedure": [["subject"], ["performer", "actor"]],
        "Provenance": [["target"]],
        "QuestionnaireResponse": [["subject"], ["author"]],
        "RelatedPerson": [["patient"]],
        "RequestGroup": [["subject"], ["action", "participant"]],
        "ResearchSubject": [["individual"]],
        "RiskAssessment": [["subject"]],
        "Schedule": [["actor"]],
        "ServiceRequest": [["subject"], ["performer"]],
        "Specimen": [["subject"]],
        "SupplyDelivery": [["patient"]],
        "SupplyRequest": [["requester"]],
        "VisionPrescription": [["patient"]],
    ]
}
