/// The clinical resources of a demo patient: vital signs, diagnoses, prescriptions, an allergy
/// and an immunization, each tied to one of the patient's encounters.
extension DemoPatientRecord {
    /// A condition diagnosed at one visit.
    struct Diagnosis {
        let id: String
        let url: String
        let condition: DemoCatalog.Condition
        let visit: Visit
    }

    /// One to three distinct conditions, each plausible for the patient's age at the visit
    /// where it is diagnosed.
    mutating func drawDiagnoses() -> [Diagnosis] {
        var diagnoses: [Diagnosis] = []
        for _ in 0..<random.int(in: 1...3) {
            let visit = random.element(of: visits)
            let candidates = DemoCatalog.conditions.filter { condition in
                condition.minimumAge <= visit.age
                    && !diagnoses.contains { $0.condition.snomed == condition.snomed }
            }
            guard !candidates.isEmpty else {
                continue
            }
            let id = "demo-cond-\(key)-\(diagnoses.count + 1)"
            diagnoses.append(
                Diagnosis(
                    id: id, url: bundle.fullUrl("Condition", id),
                    condition: random.element(of: candidates), visit: visit))
        }
        return diagnoses
    }

    /// Heart rate and systolic pressure at every visit, body weight at every visit but an
    /// emergency, with values drawn for the patient's age.
    mutating func addVitalSigns(_ visit: Visit, hypertensive: Bool) {
        let age = visit.age
        var heartRate =
            switch age {
            case ..<1: random.int(in: 110...150)
            case ..<12: random.int(in: 75...115)
            default: random.int(in: 58...95)
            }
        var systolic =
            switch age {
            case ..<12: random.int(in: 88...110)
            case ..<40: random.int(in: 104...130)
            default: random.int(in: 110...145)
            }
        if visit.kind.classCode == "EMER" {
            heartRate += random.int(in: 10...25)
        }
        if hypertensive {
            systolic += random.int(in: 10...20)
        }
        addVitalSign(
            visit, suffix: "hr", loinc: "8867-4", display: "Heart rate",
            value: .quantity(.integer(heartRate), unit: "beats/minute", code: "/min"))
        addVitalSign(
            visit, suffix: "bp", loinc: "8480-6", display: "Systolic blood pressure",
            value: .quantity(.integer(systolic), unit: "mmHg", code: "mm[Hg]"))
        guard visit.kind.classCode != "EMER" else {
            return
        }
        // Tenths of a kilogram: 3.5 to 9.5 kg in the first year, then about 10 kg at one
        // plus 3 kg a year to 18, give or take 15 %.
        let weight =
            switch age {
            case ..<1: random.int(in: 35...95)
            case ..<18: (100 + 30 * age) * random.int(in: 85...115) / 100
            default: random.int(in: 520...1050)
            }
        addVitalSign(
            visit, suffix: "wt", loinc: "29463-7", display: "Body weight",
            value: .quantity(.decimal(weight, scale: 1), unit: "kg", code: "kg"))
    }

    private mutating func addVitalSign(
        _ visit: Visit, suffix: String, loinc: String, display: String, value: DemoJSON
    ) {
        let id = visit.id.replacingOccurrences(of: "demo-enc-", with: "demo-obs-") + "-" + suffix
        bundle.add(
            "Observation", id,
            [
                "status": "final",
                "category": [
                    .concept(DemoCatalog.System.observationCategory, "vital-signs", "Vital Signs")
                ],
                "code": .concept(DemoCatalog.System.loinc, loinc, display, text: display),
                "subject": .reference(patientURL),
                "encounter": .reference(visit.url),
                "effectiveDateTime": .string(visit.start.adding(minutes: 5).dateTime),
                "valueQuantity": value,
            ])
    }

    /// Chronic conditions stay active on the problem list; the others are encounter
    /// diagnoses that resolve one to three weeks later.
    mutating func addCondition(_ diagnosis: Diagnosis) {
        let condition = diagnosis.condition
        let onset = diagnosis.visit.start
        var members: DemoJSON = [
            "clinicalStatus": condition.chronic
                ? .concept(DemoCatalog.System.conditionClinical, "active", "Active")
                : .concept(DemoCatalog.System.conditionClinical, "resolved", "Resolved"),
            "verificationStatus": .concept(
                DemoCatalog.System.conditionVerification, "confirmed", "Confirmed"),
            "category": [
                condition.chronic
                    ? .concept(
                        DemoCatalog.System.conditionCategory, "problem-list-item",
                        "Problem List Item")
                    : .concept(
                        DemoCatalog.System.conditionCategory, "encounter-diagnosis",
                        "Encounter Diagnosis")
            ],
            "code": .concept(
                DemoCatalog.System.snomed, condition.snomed, condition.display,
                text: condition.text),
            "subject": .reference(patientURL),
            "encounter": .reference(diagnosis.visit.url),
            "onsetDateTime": .string(onset.date),
        ]
        if !condition.chronic {
            let abatement = onset.adding(days: random.int(in: 7...21))
            members.append("abatementDateTime", .string(abatement.date))
        }
        members.append("recordedDate", .string(diagnosis.visit.end.dateTime))
        bundle.add("Condition", diagnosis.id, members)
    }

    /// One or two prescriptions: first the treatments of the diagnoses, then, if the patient
    /// has fewer than drawn, a common painkiller prescribed at one of the visits.
    mutating func addMedicationRequests(for diagnoses: [Diagnosis]) {
        let wanted = random.int(in: 1...2)
        var prescribed: [String] = []
        for diagnosis in diagnoses where prescribed.count < wanted {
            guard let medication = diagnosis.condition.medication,
                !prescribed.contains(medication.rxnorm)
            else {
                continue
            }
            prescribed.append(medication.rxnorm)
            addMedicationRequest(
                medication, visit: diagnosis.visit, ongoing: diagnosis.condition.chronic,
                reason: diagnosis.url, number: prescribed.count)
        }
        while prescribed.count < wanted {
            let medication = random.element(of: DemoCatalog.generalMedications)
            guard !prescribed.contains(medication.rxnorm) else {
                continue
            }
            prescribed.append(medication.rxnorm)
            addMedicationRequest(
                medication, visit: random.element(of: visits), ongoing: false, reason: nil,
                number: prescribed.count)
        }
    }

    private mutating func addMedicationRequest(
        _ medication: DemoCatalog.Medication, visit: Visit, ongoing: Bool, reason: String?,
        number: Int
    ) {
        var members: DemoJSON = [
            "status": ongoing ? "active" : "completed",
            "intent": "order",
            "medicationCodeableConcept": .concept(
                DemoCatalog.System.rxnorm, medication.rxnorm, medication.display,
                text: medication.display),
            "subject": .reference(patientURL),
            "encounter": .reference(visit.url),
            "authoredOn": .string(visit.end.dateTime),
            "requester": DemoDataGenerator.reference(to: visit.practitioner),
        ]
        if let reason {
            members.append("reasonReference", [.reference(reason)])
        }
        members.append(
            "dosageInstruction", [["sequence": 1, "text": .string(medication.instructions)]])
        bundle.add("MedicationRequest", "demo-med-\(key)-\(number)", members)
    }

    /// An allergy recorded at the first visit.
    mutating func addAllergy() {
        let allergy = random.element(of: DemoCatalog.allergies)
        let visit = visits[0]
        bundle.add(
            "AllergyIntolerance", "demo-alg-\(key)",
            [
                "clinicalStatus": .concept(DemoCatalog.System.allergyClinical, "active", "Active"),
                "verificationStatus": .concept(
                    DemoCatalog.System.allergyVerification, "confirmed", "Confirmed"),
                "type": "allergy",
                "category": [.string(allergy.category)],
                "criticality": "low",
                "code": .concept(DemoCatalog.System.snomed, allergy.snomed, allergy.display),
                "patient": .reference(patientURL),
                "encounter": .reference(visit.url),
                "recordedDate": .string(visit.start.dateTime),
            ])
    }

    /// A vaccine given at a visit, when one in the catalog suits the patient's age then.
    mutating func addImmunization() {
        let visit = random.element(of: visits)
        let suitable = DemoCatalog.vaccines.filter { $0.ages.contains(visit.age) }
        guard !suitable.isEmpty else {
            return
        }
        let vaccine = random.element(of: suitable)
        bundle.add(
            "Immunization", "demo-imm-\(key)",
            [
                "status": "completed",
                "vaccineCode": .concept(DemoCatalog.System.cvx, vaccine.cvx, vaccine.display),
                "patient": .reference(patientURL),
                "encounter": .reference(visit.url),
                "occurrenceDateTime": .string(visit.start.adding(minutes: 10).dateTime),
                "primarySource": true,
            ])
    }
}
