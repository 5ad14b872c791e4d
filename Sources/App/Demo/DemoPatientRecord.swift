/// Draws one fictional patient and writes their transaction Bundle: the Patient, two to five
/// Encounters with vital signs, a few Conditions, one or two MedicationRequests, and sometimes
/// an AllergyIntolerance and an Immunization.
///
/// Everything is drawn from the patient's own random stream (`patient-<n>`), in a fixed
/// order, so the record depends only on the seed, the patient number and the care team.
/// Entries reference each other by `urn:uuid:` fullUrl; practitioners and the hospital are
/// reached by conditional reference (see `DemoDataGenerator.reference(to:)`).
struct DemoPatientRecord {
    /// One encounter as drawn.
    struct Visit {
        let id: String
        let url: String
        let kind: DemoCatalog.EncounterKind
        let start: DemoDate
        let end: DemoDate
        let practitioner: DemoPractitioner
        /// The patient's age in whole years when it began.
        let age: Int
    }

    /// Encounters fall in these years, so that the data set does not depend on today's date.
    static let firstVisitDay = DemoDate(year: 2019, month: 1, day: 1)
    static let lastVisitDay = DemoDate(year: 2024, month: 12, day: 31)

    let id: String
    /// The patient number, zero-padded, that the ids of the patient's resources share.
    let key: String
    let careTeam: [DemoPractitioner]
    var random: DemoRandom
    var bundle: DemoBundleBuilder
    let patientURL: String
    let given: [String]
    let family: String
    let gender: String
    let birth: DemoDate
    private(set) var visits: [Visit] = []

    /// Draws the demographics; `careTeam` must not be empty and its first member is the main
    /// practitioner.
    init(seed: UInt64, number: Int, idWidth: Int, careTeam: [DemoPractitioner]) {
        precondition(!careTeam.isEmpty, "a patient needs a practitioner")
        key = DemoDate.padded(number, idWidth)
        id = "demo-pat-" + key
        self.careTeam = careTeam
        random = DemoRandom(seed: seed, stream: "patient-\(number)")
        bundle = DemoBundleBuilder(seed: seed)
        patientURL = bundle.fullUrl("Patient", id)

        gender =
            switch random.int(in: 0...99) {
            case ..<48: "female"
            case ..<96: "male"
            default: "other"
            }
        let names =
            switch gender {
            case "female": DemoCatalog.femaleGivenNames
            case "male": DemoCatalog.maleGivenNames
            default: DemoCatalog.femaleGivenNames + DemoCatalog.maleGivenNames
            }
        given = random.distinct(random.chance(30) ? 2 : 1, of: names)
        family = random.element(of: DemoCatalog.familyNames)
        let earliest = DemoDate(year: 1930, month: 1, day: 1).day
        let latest = DemoDate(year: 2020, month: 12, day: 31).day
        birth = DemoDate(day: random.int(in: earliest...latest))
    }

    /// "Given Family", with the first given name only.
    var displayName: String {
        given[0] + " " + family
    }

    /// What the rest of the application needs to know about the patient.
    var summary: DemoPatient {
        let ids = Set(visits.map(\.practitioner.id)).sorted()
        return DemoPatient(id: id, displayName: displayName, practitionerIDs: ids)
    }

    /// Draws and writes the whole record; returns the Bundle's JSON. Call once.
    mutating func build() -> [UInt8] {
        precondition(visits.isEmpty, "build() was already called")
        addPatient()
        drawVisits()
        let diagnoses = drawDiagnoses()
        let hypertensive = diagnoses.contains {
            $0.condition.snomed == DemoCatalog.hypertension
        }
        for visit in visits {
            addEncounter(visit)
            addVitalSigns(visit, hypertensive: hypertensive)
        }
        for diagnosis in diagnoses {
            addCondition(diagnosis)
        }
        addMedicationRequests(for: diagnoses)
        if random.chance(30) {
            addAllergy()
        }
        if random.chance(50) {
            addImmunization()
        }
        return bundle.bytes
    }

    private mutating func addPatient() {
        let town = random.element(of: DemoCatalog.towns)
        let street = "\(random.int(in: 1...240)) " + random.element(of: DemoCatalog.streets)
        let phone = "555-01" + DemoDate.padded(random.int(in: 1...99), 2)
        let email = (given[0] + "." + family + "@example.org").lowercased()
        bundle.add(
            "Patient", id,
            [
                "identifier": [
                    [
                        "use": "usual",
                        "type": .concept(
                            DemoCatalog.System.identifierType, "MR", "Medical record number"),
                        "system": .string(DemoCatalog.System.mrn),
                        "value": .string("DM" + key),
                    ]
                ],
                "active": true,
                "name": [
                    [
                        "use": "official", "family": .string(family),
                        "given": .array(given.map(DemoJSON.string)),
                    ]
                ],
                "telecom": [
                    ["system": "phone", "value": .string(phone), "use": "home"],
                    ["system": "email", "value": .string(email), "use": "home"],
                ],
                "gender": .string(gender),
                "birthDate": .string(birth.date),
                "address": [
                    [
                        "use": "home", "type": "physical", "line": [.string(street)],
                        "city": .string(town),
                    ]
                ],
                "generalPractitioner": [DemoDataGenerator.reference(to: careTeam[0])],
                "managingOrganization": DemoDataGenerator.organizationReference,
            ])
    }

    /// Two to five encounters in date order, between the patient's birth and the end of the
    /// visit window, shared among the care team so that each member sees the patient at least
    /// once.
    private mutating func drawVisits() {
        let count = random.int(in: 2...5)
        let earliest = max(Self.firstVisitDay.day, birth.day + 1)
        let days = (0..<count).map { _ in random.int(in: earliest...Self.lastVisitDay.day) }
        for (index, day) in days.sorted().enumerated() {
            let kind =
                switch random.int(in: 0...99) {
                case ..<45: DemoCatalog.checkUp
                case ..<75: DemoCatalog.symptomVisit
                case ..<92: DemoCatalog.emergency
                default: DemoCatalog.admission
                }
            // Emergencies at any hour; other visits start 08:00 to 16:55, on the five minutes.
            let minute =
                kind.classCode == "EMER"
                ? random.int(in: 0...1439) : 8 * 60 + 5 * random.int(in: 0...107)
            let start = DemoDate(day: day, minute: minute)
            let end = start.adding(minutes: random.int(in: kind.minutes))
            let practitioner: DemoPractitioner
            if index < careTeam.count {
                practitioner = careTeam[index]
            } else {
                practitioner = random.chance(70) ? careTeam[0] : random.element(of: careTeam)
            }
            visits.append(
                Visit(
                    id: "demo-enc-\(key)-\(index + 1)",
                    url: bundle.fullUrl("Encounter", "demo-enc-\(key)-\(index + 1)"), kind: kind,
                    start: start, end: end, practitioner: practitioner,
                    age: start.years(since: birth)))
        }
    }

    private mutating func addEncounter(_ visit: Visit) {
        bundle.add(
            "Encounter", visit.id,
            [
                "status": "finished",
                "class": .coding(
                    DemoCatalog.System.actCode, visit.kind.classCode, visit.kind.classDisplay),
                "type": [
                    .concept(
                        DemoCatalog.System.snomed, visit.kind.snomed, visit.kind.display,
                        text: visit.kind.text)
                ],
                "subject": .reference(patientURL),
                "participant": [
                    [
                        "type": [
                            .concept(
                                DemoCatalog.System.participationType, "PPRF", "primary performer")
                        ],
                        "individual": DemoDataGenerator.reference(to: visit.practitioner),
                    ]
                ],
                "period": [
                    "start": .string(visit.start.dateTime), "end": .string(visit.end.dateTime),
                ],
                "serviceProvider": DemoDataGenerator.organizationReference,
            ])
    }
}
