/// How the policy classifies a FHIR resource type.
///
/// Patient data is every FHIR R4 type in the Patient compartment, plus Device (implants carry a
/// patient reference and a unique device identifier, which is PHI). Directory data is the
/// small set of types that describe the organisation rather than a person in its care. Any
/// other type, including a misspelt or wrongly cased one, is `unsupported` and denied to every
/// role, so a type phigate does not know can never be read by falling into the wrong class.
public enum ResourceClass: Sendable, Equatable {
    /// Data about a patient: the Patient resource itself and everything in its compartment.
    case patientData
    /// Data outside any patient compartment: people and places of the organisation, drugs.
    case directoryData
    /// A type the policy does not classify; never allowed.
    case unsupported

    /// The class of a FHIR resource type name (case-sensitive, as FHIR type names are).
    public static func of(_ type: String) -> ResourceClass {
        if patientDataTypes.contains(type) { return .patientData }
        if directoryDataTypes.contains(type) { return .directoryData }
        return .unsupported
    }

    /// True when `type` holds data about a patient.
    public static func isPatientData(_ type: String) -> Bool { of(type) == .patientData }

    /// True when `type` holds data outside any patient compartment.
    public static func isDirectoryData(_ type: String) -> Bool { of(type) == .directoryData }

    /// The FHIR R4 Patient compartment, plus Device.
    public static let patientDataTypes: Set<String> = [
        "Account", "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse",
        "AuditEvent", "Basic", "BodyStructure", "CarePlan", "CareTeam", "ChargeItem", "Claim",
        "ClaimResponse", "ClinicalImpression", "Communication", "CommunicationRequest",
        "Composition", "Condition", "Consent", "Coverage", "CoverageEligibilityRequest",
        "CoverageEligibilityResponse", "DetectedIssue", "Device", "DeviceRequest",
        "DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference",
        "Encounter", "EnrollmentRequest", "EpisodeOfCare", "ExplanationOfBenefit",
        "FamilyMemberHistory", "Flag", "Goal", "Group", "ImagingStudy", "Immunization",
        "ImmunizationEvaluation", "ImmunizationRecommendation", "Invoice", "List",
        "MeasureReport", "Media", "MedicationAdministration", "MedicationDispense",
        "MedicationRequest", "MedicationStatement", "MolecularSequence", "NutritionOrder",
        "Observation", "Patient", "Person", "Procedure", "Provenance", "QuestionnaireResponse",
        "RelatedPerson", "RequestGroup", "ResearchSubject", "RiskAssessment", "Schedule",
        "ServiceRequest", "Specimen", "SupplyDelivery", "SupplyRequest", "VisionPrescription",
    ]

    /// Types describing the organisation: who works where, which places and services exist,
    /// which drugs and substances are known.
    public static let directoryDataTypes: Set<String> = [
        "Endpoint", "HealthcareService", "Location", "Medication", "Organization",
        "OrganizationAffiliation", "Practitioner", "PractitionerRole", "Substance",
    ]
}
