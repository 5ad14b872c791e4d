import Foundation
import POSIX
import Store
import Testing

@testable import App

@Suite("Demo data")
struct DemoDataTests {
    // MARK: - Building blocks

    /// SplitMix64's published first outputs for seed 0.
    @Test("the generator is SplitMix64")
    func splitMix() {
        var random = DemoRandom(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    @Test("ranges stay in bounds and reach both ends", arguments: [0...0, 1...3, -5...5, 2...5])
    func ranges(range: ClosedRange<Int>) {
        var random = DemoRandom(seed: 7, stream: "ranges")
        let drawn = Set((0..<400).map { _ in random.int(in: range) })
        #expect(drawn == Set(range))
    }

    /// Lowercase 8-4-4-4-12 hex with the version 4 and RFC 9562 variant bits.
    static func isUUID(_ text: Substring) -> Bool {
        text.wholeMatch(of: #/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/#)
            != nil
    }

    @Test("UUIDs are well formed and depend on the seed and the name")
    func uuids() {
        let base = DemoRandom.uuid(seed: 1, name: "Patient/demo-pat-0001")
        #expect(Self.isUUID(base[...]))
        #expect(DemoRandom.uuid(seed: 1, name: "Patient/demo-pat-0001") == base)
        #expect(DemoRandom.uuid(seed: 2, name: "Patient/demo-pat-0001") != base)
        #expect(DemoRandom.uuid(seed: 1, name: "Patient/demo-pat-0002") != base)
    }

    static let dates: [(year: Int, month: Int, day: Int, days: Int, text: String)] = [
        (1970, 1, 1, 0, "1970-01-01"),
        (1969, 12, 31, -1, "1969-12-31"),
        (2000, 3, 1, 11_017, "2000-03-01"),
        (2024, 2, 29, 19_782, "2024-02-29"),
        (1930, 1, 1, -14_610, "1930-01-01"),
        (2020, 12, 31, 18_627, "2020-12-31"),
    ]

    @Test("calendar conversion both ways", arguments: dates)
    func calendar(date: (year: Int, month: Int, day: Int, days: Int, text: String)) {
        let value = DemoDate(year: date.year, month: date.month, day: date.day)
        #expect(value.day == date.days)
        #expect(DemoDate(day: date.days).date == date.text)
    }

    @Test("times, overflow into the next day, and ages")
    func timesAndAges() {
        let evening = DemoDate(year: 2023, month: 12, day: 31, minute: 23 * 60 + 50)
        #expect(evening.dateTime == "2023-12-31T23:50:00Z")
        #expect(evening.adding(minutes: 25).dateTime == "2024-01-01T00:15:00Z")
        let birth = DemoDate(year: 1990, month: 6, day: 15)
        #expect(DemoDate(year: 2020, month: 6, day: 14).years(since: birth) == 29)
        #expect(DemoDate(year: 2020, month: 6, day: 15).years(since: birth) == 30)
    }

    static let json: [(DemoJSON, String)] = [
        (["b": 1, "a": [true, "x"]], #"{"b":1,"a":[true,"x"]}"#),
        (.string("quote \" back \\ line\n tab\t"), #""quote \" back \\ line\n tab\u0009""#),
        (.decimal(724, scale: 1), "72.4"),
        (.decimal(5, scale: 2), "0.05"),
        (.decimal(-35, scale: 1), "-3.5"),
        (.decimal(12, scale: 0), "12"),
    ]

    @Test("JSON writer keeps member order, escapes and prints decimals exactly", arguments: json)
    func writer(value: DemoJSON, expected: String) {
        #expect(String(decoding: value.bytes, as: UTF8.self) == expected)
    }

    // MARK: - The data set

    @Test("the same seed gives the same data set", arguments: [0, 42, UInt64.max])
    func deterministic(seed: UInt64) {
        #expect(DemoDataGenerator.generate(seed: seed) == DemoDataGenerator.generate(seed: seed))
    }

    static let seedPairs: [(UInt64, UInt64)] = [(1, 2), (42, 43), (0, UInt64.max)]

    @Test("different seeds give different people", arguments: seedPairs)
    func seedsDiffer(pair: (UInt64, UInt64)) {
        let first = DemoDataGenerator.generate(seed: pair.0)
        let second = DemoDataGenerator.generate(seed: pair.1)
        #expect(first.patients.map(\.displayName) != second.patients.map(\.displayName))
        #expect(first.practitioners.map(\.displayName) != second.practitioners.map(\.displayName))
        #expect(first.bundles != second.bundles)
    }

    @Test("a patient does not change when more patients are generated")
    func stablePatients() {
        let small = DemoDataGenerator.generate(seed: 9, patientCount: 5)
        let large = DemoDataGenerator.generate(seed: 9, patientCount: 30)
        #expect(Array(large.patients.prefix(5)) == small.patients)
        #expect(Array(large.bundles.prefix(6)) == small.bundles)
    }

    static let counts: [(patients: Int, practitioners: Int)] = [(40, 6), (1, 2), (0, 3), (12, 4)]

    @Test("counts and ids", arguments: counts)
    func countsAndIDs(count: (patients: Int, practitioners: Int)) {
        let data = DemoDataGenerator.generate(
            seed: 5, patientCount: count.patients, practitionerCount: count.practitioners)
        #expect(data.bundles.count == count.patients + 1)
        #expect(data.patients.count == count.patients)
        #expect(data.practitioners.count == count.practitioners)
        #expect(data.practitioners.first?.id == "demo-prac-01")
        #expect(
            data.practitioners.last?.id == String(format: "demo-prac-%02d", count.practitioners))
        if count.patients > 0 {
            #expect(data.patients.first?.id == "demo-pat-0001")
            #expect(data.patients.last?.id == String(format: "demo-pat-%04d", count.patients))
        }
        let practitionerIDs = Set(data.practitioners.map(\.id))
        for patient in data.patients {
            #expect((1...2).contains(patient.practitionerIDs.count))
            #expect(patient.practitionerIDs == patient.practitionerIDs.sorted())
            #expect(Set(patient.practitionerIDs).isSubset(of: practitionerIDs))
        }
        for practitioner in data.practitioners {
            #expect(practitioner.npi.wholeMatch(of: #/99[0-9]{8}/#) != nil)
        }
        #expect(Set(data.practitioners.map(\.npi)).count == count.practitioners)
    }

    @Test("demo-prac-01 treats some patients and not others")
    func breakGlassCandidates() {
        let data = DemoDataGenerator.generate(seed: 3)
        let treated = data.patients.filter { $0.practitionerIDs.contains("demo-prac-01") }
        #expect(!treated.isEmpty)
        #expect(treated.count < data.patients.count / 2)
        #expect(data.patients[0].practitionerIDs.first == "demo-prac-01")
        #expect(!data.patients[1].practitionerIDs.contains("demo-prac-01"))
    }

    @Test("every bundle is a transaction whose entries carry fullUrl, resource and PUT request")
    func bundleShape() throws {
        let data = DemoDataGenerator.generate(seed: 11)
        var fullUrls = Set<String>()
        for bytes in data.bundles {
            let bundle = try #require(
                try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect(bundle["resourceType"] as? String == "Bundle")
            #expect(bundle["type"] as? String == "transaction")
            let entries = try #require(bundle["entry"] as? [[String: Any]])
            #expect(!entries.isEmpty)
            for entry in entries {
                let fullUrl = try #require(entry["fullUrl"] as? String)
                #expect(fullUrl.hasPrefix("urn:uuid:"))
                #expect(Self.isUUID(fullUrl.dropFirst(9)))
                #expect(fullUrls.insert(fullUrl).inserted)
                let resource = try #require(entry["resource"] as? [String: Any])
                let type = try #require(resource["resourceType"] as? String)
                let id = try #require(resource["id"] as? String)
                #expect(id.wholeMatch(of: #/[A-Za-z0-9\-.]{1,64}/#) != nil)
                let request = try #require(entry["request"] as? [String: Any])
                #expect(request["method"] as? String == "PUT")
                #expect(request["url"] as? String == type + "/" + id)
            }
        }
    }

    @Test("each patient bundle holds one patient's record")
    func patientBundles() throws {
        let data = DemoDataGenerator.generate(seed: 21)
        for (patient, bytes) in zip(data.patients, data.bundles.dropFirst()) {
            let types = try Self.resourceTypes(in: bytes)
            #expect(types["Patient"] == 1)
            #expect((2...5).contains(types["Encounter"] ?? 0))
            #expect((1...3).contains(types["Condition"] ?? 0))
            #expect((1...2).contains(types["MedicationRequest"] ?? 0))
            #expect(
                (2 * (types["Encounter"] ?? 0)...3 * (types["Encounter"] ?? 0))
                    .contains(types["Observation"] ?? 0))
            #expect((types["AllergyIntolerance"] ?? 0) <= 1)
            #expect((types["Immunization"] ?? 0) <= 1)
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains(#""id":"\#(patient.id)""#))
        }
        let directory = try Self.resourceTypes(in: data.bundles[0])
        #expect(directory == ["Organization": 1, "Practitioner": 6, "PractitionerRole": 6])
    }

    static func resourceTypes(in bytes: [UInt8]) throws -> [String: Int] {
        let bundle = try #require(
            try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let entries = bundle["entry"] as? [[String: Any]] ?? []
        var types: [String: Int] = [:]
        for entry in entries {
            let resource = entry["resource"] as? [String: Any]
            types[resource?["resourceType"] as? String ?? "?", default: 0] += 1
        }
        return types
    }

    // MARK: - Import into the record store

    @Test("imports into a record store with every reference resolved, and re-imports as unchanged")
    func importIntoStore() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-demo-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer {
            // Best effort: a leftover directory under /tmp is harmless and must not fail a test.
            try? FileManager.default.removeItem(at: directory)
        }
        let store = try RecordStore(
            database: Database(path: directory.appendingPathComponent("records.sqlite").path))
        let data = DemoDataGenerator.generate(seed: 2024, patientCount: 40, practitionerCount: 6)

        for bytes in data.bundles {
            let report = try store.importBundle(bytes: bytes)
            #expect(report.unresolvedReferences == 0)
            #expect(report.totals.created == report.resources.count)
        }
        let stored = try store.storedTypes()
        #expect(stored["Patient"] == 40)
        #expect(stored["Practitioner"] == 6)
        #expect(stored["Organization"] == 1)
        #expect(stored["PractitionerRole"] == 6)
        for patient in data.patients {
            for practitioner in data.practitioners {
                let expected = patient.practitionerIDs.contains(practitioner.id)
                let actual = try store.hasEncounterParticipation(
                    practitionerID: practitioner.id, patientID: patient.id)
                #expect(actual == expected, "\(practitioner.id) and \(patient.id)")
            }
        }
        #expect(data.patients.contains { !$0.practitionerIDs.contains("demo-prac-01") })
        #expect(
            try store.patientsForPractitioner("demo-prac-01").count
                == data.patients.filter { $0.practitionerIDs.contains("demo-prac-01") }.count)

        let leftovers = try store.database.scalar(
            "SELECT count(*) FROM resources WHERE instr(CAST(json AS TEXT), 'urn:uuid:') > 0")
        #expect(leftovers == 0)
        let conditional = try store.database.scalar(
            "SELECT count(*) FROM resources WHERE instr(CAST(json AS TEXT), '?identifier=') > 0")
        #expect(conditional == 0)
        for patient in data.patients.prefix(3) {
            let compartment = try store.patientCompartments(
                of: "Encounter", id: "demo-enc-\(patient.id.dropFirst(9))-1")
            #expect(compartment == [patient.id])
        }

        for bytes in data.bundles {
            let report = try store.importBundle(bytes: bytes)
            #expect(report.totals.created == 0)
            #expect(report.totals.updated == 0)
            #expect(report.totals.unchanged == report.resources.count)
        }
    }
}

@Suite("Demo example address")
struct DemoExampleBaseTests {
    @Test(
        "the printed example reaches the configured address",
        arguments: [
            ("127.0.0.1:8080", false, "http://127.0.0.1:8080"),
            ("127.0.0.1:8190", false, "http://127.0.0.1:8190"),
            ("0.0.0.0:8443", true, "https://127.0.0.1:8443"),
            ("[::]:9000", false, "http://[::1]:9000"),
            ("[::1]:9000", true, "https://[::1]:9000"),
            ("127.0.0.1:0", false, "http://127.0.0.1:<port from server.listening>"),
        ])
    func base(_ listen: String, _ secure: Bool, _ expected: String) throws {
        let address = try #require(SocketAddress(parsing: listen))
        #expect(DemoSetup.exampleBase(listen: address, secure: secure) == expected)
    }
}
