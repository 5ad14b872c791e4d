/// The fixed vocabulary the demo data set draws from: invented names and places, and a short
/// list of common conditions, medications, allergies and vaccines with their standard codes.
///
/// Every name and place is made up to sound plainly fictional; none is taken from a record
/// of a real person. Telephone numbers use the 555-01xx block reserved for fiction and e-mail
/// addresses the reserved example.org domain.
enum DemoCatalog {
    enum System {
        static let snomed = "http://snomed.info/sct"
        static let loinc = "http://loinc.org"
        static let rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
        static let cvx = "http://hl7.org/fhir/sid/cvx"
        static let npi = "http://hl7.org/fhir/sid/us-npi"
        static let mrn = "urn:phigate:demo:mrn"
        static let organization = "urn:phigate:demo:organization"
        static let actCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
        static let actReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
        static let participationType =
            "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
        static let identifierType = "http://terminology.hl7.org/CodeSystem/v2-0203"
        static let organizationType =
            "http://terminology.hl7.org/CodeSystem/organization-type"
        static let practitionerRole =
            "http://terminology.hl7.org/CodeSystem/practitioner-role"
        static let observationCategory =
            "http://terminology.hl7.org/CodeSystem/observation-category"
        static let conditionClinical =
            "http://terminology.hl7.org/CodeSystem/condition-clinical"
        static let conditionVerification =
            "http://terminology.hl7.org/CodeSystem/condition-ver-status"
        static let conditionCategory =
            "http://terminology.hl7.org/CodeSystem/condition-category"
        static let allergyClinical =
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
        static let allergyVerification =
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
    }

    static let organizationName = "Phigate Demo General Hospital"

    static let familyNames = [
        "Quillfeather", "Brambleworth", "Thistledown", "Moonwhistle", "Pebbleford",
        "Fiddlewick", "Honeyvale", "Willowmere", "Cobblestone", "Glimmerfield", "Nettlecombe",
        "Puddingstone", "Larkspurrow", "Tumbletree", "Wobblesworth", "Marrowdew", "Copperkettle",
        "Snapdragon", "Gooseberry", "Mistlethwaite", "Buttonhook", "Fernwhistle", "Lanternby",
        "Crumbleton",
    ]

    static let femaleGivenNames = [
        "Aurelia", "Clementine", "Esmeralda", "Gwendolyn", "Isolde", "Juniper", "Marigold",
        "Nettie", "Rosalind", "Tabitha", "Wilhelmina", "Philippa", "Ottoline", "Perpetua",
    ]

    static let maleGivenNames = [
        "Bartholomew", "Dorian", "Fenwick", "Horatio", "Jasper", "Lysander", "Octavius",
        "Percival", "Silas", "Thaddeus", "Ambrose", "Cornelius", "Mortimer", "Peregrine",
    ]

    static let towns = ["Lakehollow", "Eldermoor", "Quillhaven", "Brindlebrook", "Mossbottom"]

    static let streets = [
        "Larkspur Lane", "Teacup Terrace", "Lantern Row", "Gingerbread Close", "Kettle Street",
        "Puffin Parade", "Marmalade Mews", "Weathervane Way",
    ]

    struct EncounterKind {
        let classCode: String
        let classDisplay: String
        let snomed: String
        let display: String
        let text: String
        /// How long it lasts, in minutes.
        let minutes: ClosedRange<Int>
    }

    static let checkUp = EncounterKind(
        classCode: "AMB", classDisplay: "ambulatory", snomed: "185349003",
        display: "Encounter for check up (procedure)", text: "General check-up",
        minutes: 20...45)
    static let symptomVisit = EncounterKind(
        classCode: "AMB", classDisplay: "ambulatory", snomed: "185345009",
        display: "Encounter for symptom (procedure)", text: "Visit for symptoms",
        minutes: 15...40)
    static let emergency = EncounterKind(
        classCode: "EMER", classDisplay: "emergency", snomed: "50849002",
        display: "Emergency room admission (procedure)", text: "Emergency department visit",
        minutes: 120...480)
    static let admission = EncounterKind(
        classCode: "IMP", classDisplay: "inpatient encounter", snomed: "32485007",
        display: "Hospital admission (procedure)", text: "Hospital admission",
        minutes: 1440...7200)

    struct Medication {
        let rxnorm: String
        let display: String
        let instructions: String
    }

    static let acetaminophen = Medication(
        rxnorm: "313782", display: "Acetaminophen 325 MG Oral Tablet",
        instructions: "Take two tablets by mouth every six hours as needed for pain")
    static let ibuprofen = Medication(
        rxnorm: "310965", display: "Ibuprofen 200 MG Oral Tablet",
        instructions: "Take one tablet by mouth every eight hours with food as needed")

    /// Medications prescribed without a recorded reason.
    static let generalMedications = [acetaminophen, ibuprofen]

    struct Condition {
        let snomed: String
        let display: String
        let text: String
        /// Chronic conditions stay active; the others resolve after a few weeks.
        let chronic: Bool
        /// The youngest age, in whole years, at which it is diagnosed in the data set.
        let minimumAge: Int
        let medication: Medication?
    }

    /// The SNOMED CT code of hypertension, which raises the systolic pressures drawn.
    static let hypertension = "38341003"

    static let conditions = [
        Condition(
            snomed: "38341003", display: "Hypertensive disorder, systemic arterial (disorder)",
            text: "Hypertension", chronic: true, minimumAge: 30,
            medication: Medication(
                rxnorm: "316049", display: "Hydrochlorothiazide 25 MG",
                instructions: "Take one tablet by mouth once daily in the morning")),
        Condition(
            snomed: "44054006", display: "Diabetes mellitus type 2 (disorder)",
            text: "Type 2 diabetes", chronic: true, minimumAge: 30,
            medication: Medication(
                rxnorm: "860975",
                display: "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
                instructions: "Take one tablet by mouth once daily with the evening meal")),
        Condition(
            snomed: "195967001", display: "Asthma (disorder)", text: "Asthma", chronic: true,
            minimumAge: 3,
            medication: Medication(
                rxnorm: "895994",
                display: "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
                instructions: "Inhale two puffs twice daily")),
        Condition(
            snomed: "55822004", display: "Hyperlipidemia (disorder)", text: "Hyperlipidemia",
            chronic: true, minimumAge: 30,
            medication: Medication(
                rxnorm: "314231", display: "Simvastatin 10 MG Oral Tablet",
                instructions: "Take one tablet by mouth once daily at bedtime")),
        Condition(
            snomed: "239873007", display: "Osteoarthritis of knee (disorder)",
            text: "Osteoarthritis of knee", chronic: true, minimumAge: 40,
            medication: Medication(
                rxnorm: "849574", display: "Naproxen sodium 220 MG Oral Tablet",
                instructions: "Take one tablet by mouth twice daily with food as needed")),
        Condition(
            snomed: "162864005", display: "Body mass index 30+ - obesity (finding)",
            text: "Obesity", chronic: true, minimumAge: 10, medication: nil),
        Condition(
            snomed: "444814009", display: "Viral sinusitis (disorder)", text: "Viral sinusitis",
            chronic: false, minimumAge: 0, medication: acetaminophen),
        Condition(
            snomed: "195662009", display: "Acute viral pharyngitis (disorder)",
            text: "Sore throat", chronic: false, minimumAge: 0, medication: acetaminophen),
        Condition(
            snomed: "10509002", display: "Acute bronchitis (disorder)", text: "Acute bronchitis",
            chronic: false, minimumAge: 1, medication: nil),
        Condition(
            snomed: "75498004", display: "Acute bacterial sinusitis (disorder)",
            text: "Bacterial sinusitis", chronic: false, minimumAge: 2,
            medication: Medication(
                rxnorm: "562251", display: "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet",
                instructions: "Take one tablet by mouth every eight hours for ten days")),
        Condition(
            snomed: "44465007", display: "Sprain of ankle (disorder)", text: "Sprained ankle",
            chronic: false, minimumAge: 5, medication: ibuprofen),
    ]

    struct Allergy {
        let snomed: String
        let display: String
        /// FHIR allergy-intolerance-category: food, medication, environment or biologic.
        let category: String
    }

    static let allergies = [
        Allergy(snomed: "91935009", display: "Allergy to peanut (finding)", category: "food"),
        Allergy(
            snomed: "91936005", display: "Allergy to penicillin (finding)", category: "medication"),
        Allergy(snomed: "300916003", display: "Latex allergy (finding)", category: "environment"),
        Allergy(
            snomed: "418689008", display: "Allergy to grass pollen (finding)",
            category: "environment"),
    ]

    struct Vaccine {
        let cvx: String
        let display: String
        /// The ages, in whole years, at which the vaccine is given.
        let ages: ClosedRange<Int>
    }

    static let vaccines = [
        Vaccine(
            cvx: "140", display: "Influenza, seasonal, injectable, preservative free", ages: 1...120
        ),
        Vaccine(cvx: "113", display: "Td (adult) preservative free", ages: 18...120),
        Vaccine(cvx: "133", display: "Pneumococcal conjugate PCV 13", ages: 65...120),
        Vaccine(cvx: "08", display: "Hep B, adolescent or pediatric", ages: 0...17),
    ]
}
