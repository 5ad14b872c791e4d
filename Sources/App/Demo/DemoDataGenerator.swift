/// Generates phigate's own synthetic demo data set: one hospital, its practitioners and a
/// number of fictional patients with a few years of ordinary care each.
///
/// Deterministic: the same seed and counts give the same resources, ids and fullUrls. Each
/// patient is drawn from its own random stream, so patient 7 is the same whether 10 or 40
/// patients are generated. Nothing here is secret or random in the security sense; see
/// `DemoRandom`.
///
/// Care relationships are arranged for demonstrations. Patient n's main practitioner is
/// practitioner ((n - 1) mod count) + 1, and about a third of the patients also see a second
/// practitioner, never `demo-prac-01`. So `demo-prac-01` treats patients 1, count + 1,
/// 2 × count + 1… and no one else, and a clinician linked to it meets both patients they treat
/// and patients for whom only break-glass opens the record.
enum DemoDataGenerator {
    static let organizationID = "demo-org"
    static let organizationIdentifier = "PDGH"

    /// The data set for `seed`.
    ///
    /// - Precondition: `patientCount` is 0...99_999 and `practitionerCount` 2...999 (with a
    ///   single practitioner every patient would be theirs).
    static func generate(seed: UInt64, patientCount: Int = 40, practitionerCount: Int = 6)
        -> DemoDataset
    {
        precondition((0...99_999).contains(patientCount), "patient count out of range")
        precondition((2...999).contains(practitionerCount), "practitioner count out of range")

        let drawn = (1...practitionerCount).map { drawPractitioner(seed: seed, number: $0) }
        let practitioners = drawn.map(\.summary)
        var bundles = [directoryBundle(seed: seed, practitioners: drawn)]
        var patients: [DemoPatient] = []
        let idWidth = max(4, String(patientCount).count)
        for number in stride(from: 1, through: patientCount, by: 1) {
            var record = DemoPatientRecord(
                seed: seed, number: number, idWidth: idWidth,
                careTeam: careTeam(seed: seed, number: number, roster: practitioners))
            bundles.append(record.build())
            patients.append(record.summary)
        }
        return DemoDataset(bundles: bundles, practitioners: practitioners, patients: patients)
    }

    /// The practitioners who see patient `number`: the main one first, then perhaps another.
    static func careTeam(seed: UInt64, number: Int, roster: [DemoPractitioner])
        -> [DemoPractitioner]
    {
        var random = DemoRandom(seed: seed, stream: "care-team-\(number)")
        let main = roster[(number - 1) % roster.count]
        let others = roster.dropFirst().filter { $0.id != main.id }
        guard !others.isEmpty, random.chance(35) else {
            return [main]
        }
        return [main, random.element(of: others)]
    }

    /// A reference to `practitioner` that the store resolves by NPI, across bundles.
    static func reference(to practitioner: DemoPractitioner) -> DemoJSON {
        .reference(
            "Practitioner?identifier=" + DemoCatalog.System.npi + "|" + practitioner.npi,
            display: practitioner.displayName)
    }

    /// A reference to the hospital that the store resolves by identifier, across bundles.
    static var organizationReference: DemoJSON {
        .reference(
            "Organization?identifier=" + DemoCatalog.System.organization + "|"
                + organizationIdentifier,
            display: DemoCatalog.organizationName)
    }

    /// A practitioner as drawn, with the name parts its resource needs.
    private struct DrawnPractitioner {
        let summary: DemoPractitioner
        let given: String
        let family: String
        let gender: String
    }

    private static func drawPractitioner(seed: UInt64, number: Int) -> DrawnPractitioner {
        var random = DemoRandom(seed: seed, stream: "practitioner-\(number)")
        let gender = random.chance(50) ? "female" : "male"
        let given = random.element(
            of: gender == "female" ? DemoCatalog.femaleGivenNames : DemoCatalog.maleGivenNames)
        let family = random.element(of: DemoCatalog.familyNames)
        // 99 + five drawn digits + the three-digit number: unique, and never a real NPI.
        let npi = "99" + String(random.int(in: 10_000...99_999)) + DemoDate.padded(number, 3)
        let summary = DemoPractitioner(
            id: "demo-prac-" + DemoDate.padded(number, 2),
            displayName: "Dr. \(given) \(family)", npi: npi)
        return DrawnPractitioner(summary: summary, given: given, family: family, gender: gender)
    }

    /// The Organization, the Practitioners and one PractitionerRole each, linked by fullUrl.
    private static func directoryBundle(seed: UInt64, practitioners: [DrawnPractitioner])
        -> [UInt8]
    {
        var bundle = DemoBundleBuilder(seed: seed)
        let organization = bundle.add(
            "Organization", organizationID,
            [
                "identifier": [
                    [
                        "system": .string(DemoCatalog.System.organization),
                        "value": .string(organizationIdentifier),
                    ]
                ],
                "active": true,
                "type": [
                    .concept(DemoCatalog.System.organizationType, "prov", "Healthcare Provider")
                ],
                "name": .string(DemoCatalog.organizationName),
                "telecom": [["system": "phone", "value": "555-0100", "use": "work"]],
                "address": [
                    ["use": "work", "line": ["1 Harborlight Way"], "city": "Lakehollow"]
                ],
            ])
        for (index, drawn) in practitioners.enumerated() {
            let practitioner = drawn.summary
            let email = "\(drawn.given).\(drawn.family)@example.org".lowercased()
            let url = bundle.add(
                "Practitioner", practitioner.id,
                [
                    "identifier": [
                        [
                            "system": .string(DemoCatalog.System.npi),
                            "value": .string(practitioner.npi),
                        ]
                    ],
                    "active": true,
                    "name": [
                        [
                            "use": "official", "family": .string(drawn.family),
                            "given": [.string(drawn.given)], "prefix": ["Dr."],
                        ]
                    ],
                    "telecom": [["system": "email", "value": .string(email), "use": "work"]],
                    "gender": .string(drawn.gender),
                ])
            bundle.add(
                "PractitionerRole", "demo-role-" + DemoDate.padded(index + 1, 2),
                [
                    "active": true,
                    "practitioner": .reference(url, display: practitioner.displayName),
                    "organization": .reference(organization, display: DemoCatalog.organizationName),
                    "code": [.concept(DemoCatalog.System.practitionerRole, "doctor", "Doctor")],
                ])
        }
        return bundle.bytes
    }
}
