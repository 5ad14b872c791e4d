/// Why a clinician breaks the glass: a fixed list, so that reviews and reports can count
/// reasons, with the details in the free-text justification.
///
/// The raw values are what clients send and what the audit log records. The list follows the
/// situations hospital emergency-access policies commonly name; a reason outside it is
/// refused rather than mapped to "other", because "other" is where unjustified access hides.
///
/// | code | when |
/// |---|---|
/// | `emergency-treatment` | a life-threatening emergency needs the record now |
/// | `patient-unconscious` | the patient cannot give a history or consent |
/// | `urgent-care-unavailable-clinician` | urgent care while the treating team cannot be reached |
/// | `continuity-of-care` | care taken over before a care relationship is recorded |
/// | `medication-safety` | allergies or medication must be checked before treatment |
/// | `public-health-emergency` | a declared public-health emergency or mass-casualty incident |
public enum ReasonCode: String, Sendable, CaseIterable {
    case emergencyTreatment = "emergency-treatment"
    case patientUnconscious = "patient-unconscious"
    case urgentCareUnavailableClinician = "urgent-care-unavailable-clinician"
    case continuityOfCare = "continuity-of-care"
    case medicationSafety = "medication-safety"
    case publicHealthEmergency = "public-health-emergency"

    /// One line saying when the reason applies, for help texts and error messages.
    public var summary: String {
        switch self {
        case .emergencyTreatment:
            return "a life-threatening emergency needs the patient's record now"
        case .patientUnconscious:
            return "the patient is unconscious or otherwise unable to give a history or consent"
        case .urgentCareUnavailableClinician:
            return "urgent care is needed and the patient's treating clinicians cannot be reached"
        case .continuityOfCare:
            return "care was handed over (transfer, cover shift) before a care relationship "
                + "was recorded"
        case .medicationSafety:
            return "allergies or current medication must be checked before urgent treatment"
        case .publicHealthEmergency:
            return "a declared public-health emergency or mass-casualty incident"
        }
    }

    /// The raw values, comma-separated, for an error message listing the accepted codes.
    public static var accepted: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }
}
