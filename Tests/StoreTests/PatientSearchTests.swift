import Testing

@testable import Store

@Suite("Patient search, compartments and care relationships")
struct PatientSearchTests {
    let fixture: StoreFixture

    init() throws {
        fixture = try StoreFixture()
        _ = try fixture.store.importBundle(bytes: SmallBundle.bytes)
    }

    static let mrn = SmallBundle.mrnSystem

    static let searchCases: [(SearchParameters, [String])] = [
        (SearchParameters(), ["p1", "p2", "p3", "p4", "p5"]),
        (SearchParameters(family: ["muller"]), ["p1", "p2"]),
        (SearchParameters(family: ["M\u{DC}L"]), ["p1", "p2"]),
        (SearchParameters(family: ["mull,smi"]), ["p1", "p2", "p4"]),
        (SearchParameters(family: ["uller"]), []),
        (SearchParameters(given: ["jur"]), ["p1"]),
        (SearchParameters(given: ["KARL"]), ["p1"]),
        (SearchParameters(name: ["jones"]), ["p4"]),
        (SearchParameters(name: ["mr"]), ["p1"]),
        (SearchParameters(name: ["sean"]), ["p3"]),
        (SearchParameters(name: ["o'b"]), ["p3"]),
        (SearchParameters(family: ["muller"], given: ["anna"]), ["p2"]),
        (SearchParameters(name: ["muller", "jurgen"]), ["p1"]),
        (SearchParameters(name: ["100%"]), []),
        (SearchParameters(birthdate: ["1980"]), ["p1", "p2"]),
        (SearchParameters(birthdate: ["1980-05"]), ["p1"]),
        (SearchParameters(birthdate: ["1980-05-17"]), ["p1"]),
        (SearchParameters(birthdate: ["eq1975-06-01"]), []),
        (SearchParameters(birthdate: ["ge1980-06-01"]), ["p2", "p4"]),
        (SearchParameters(birthdate: ["gt1980"]), ["p4"]),
        (SearchParameters(birthdate: ["lt1980"]), ["p3"]),
        (SearchParameters(birthdate: ["le1980-05-17"]), ["p1", "p3"]),
        (SearchParameters(birthdate: ["ne1980"]), ["p3", "p4"]),
        (SearchParameters(birthdate: ["ge1976", "lt1981"]), ["p1", "p2"]),
        (SearchParameters(birthdate: ["sa1979"]), ["p1", "p2", "p4"]),
        (SearchParameters(birthdate: ["eb1980-05-18"]), ["p1", "p3"]),
        (SearchParameters(gender: ["female"]), ["p2"]),
        (SearchParameters(gender: ["male,other"]), ["p1", "p3", "p4"]),
        (SearchParameters(identifier: ["\(mrn)|MRN-002"]), ["p2"]),
        (SearchParameters(identifier: ["MRN-004"]), ["p4"]),
        (SearchParameters(identifier: ["|NOSYS-3"]), ["p3"]),
        (SearchParameters(identifier: ["\(mrn)|"]), ["p1", "p2", "p4"]),
        (SearchParameters(identifier: ["http://other.example|MRN-002"]), []),
        (SearchParameters(family: ["muller"], gender: ["male"]), ["p1"]),
    ]

    @Test("patient search finds exactly the expected patients", arguments: searchCases)
    func patientSearch(parameters: SearchParameters, expected: [String]) throws {
        let result = try fixture.store.searchPatients(parameters)
        #expect(result.resources.map(\.id) == expected)
        #expect(result.total == expected.count)
        #expect(result.resources.allSatisfy { $0.type == "Patient" })
    }

    @Test("count and offset page through the matches; total counts them all")
    func paging() throws {
        let page = try fixture.store.searchPatients(SearchParameters(count: 2, offset: 1))
        #expect(page.total == 5)
        #expect(page.resources.map(\.id) == ["p2", "p3"])
        let totalOnly = try fixture.store.searchPatients(SearchParameters(count: 0))
        #expect(totalOnly.total == 5)
        #expect(totalOnly.resources.isEmpty)
    }

    static let invalidSearches: [SearchParameters] = [
        SearchParameters(birthdate: ["ap1980"]),
        SearchParameters(birthdate: ["1980-13"]),
        SearchParameters(birthdate: ["1981-02-29"]),
        SearchParameters(birthdate: ["+1980"]),
        SearchParameters(name: [""]),
        SearchParameters(family: ["  "]),
        SearchParameters(gender: ["male,"]),
        SearchParameters(identifier: ["|"]),
        SearchParameters(count: -1),
        SearchParameters(count: SearchParameters.maximumCount + 1),
        SearchParameters(offset: -5),
    ]

    @Test("an unusable search value throws .invalidSearch", arguments: invalidSearches)
    func invalidSearch(parameters: SearchParameters) throws {
        let error = try #require(throws: StoreError.self) {
            try fixture.store.searchPatients(parameters)
        }
        #expect(error.code == .invalidSearch)
    }

    static let compartmentCases: [(type: String, id: String, patients: [String])] = [
        ("Patient", "p1", ["p1"]),
        ("Patient", "p5", ["p5"]),
        ("Observation", "o1", ["p1"]),
        ("Observation", "o2", ["p2"]),
        ("Encounter", "e2", ["p2"]),
        ("Provenance", "prov1", ["p1"]),
        ("Organization", "org1", []),
        ("Practitioner", "pr1", []),
        ("Observation", "missing", []),
    ]

    @Test("each resource is in the expected patient compartment", arguments: compartmentCases)
    func compartment(type: String, id: String, patients: [String]) throws {
        #expect(try fixture.store.patientCompartments(of: type, id: id) == patients)
        #expect(try fixture.store.patientCompartment(of: type, id: id) == patients.first)
    }

    static let participationCases: [(practitioner: String, patient: String, expected: Bool)] = [
        ("pr1", "p1", true),
        ("pr1", "p2", false),
        ("pr2", "p2", true),
        ("pr2", "p1", false),
        ("pr1", "p3", false),
        ("nobody", "p1", false),
    ]

    @Test("encounter participation links practitioners to patients", arguments: participationCases)
    func participation(practitioner: String, patient: String, expected: Bool) throws {
        let store = fixture.store
        #expect(
            try store.hasEncounterParticipation(practitionerID: practitioner, patientID: patient)
                == expected)
        #expect(try store.practitionersForPatient(patient).contains(practitioner) == expected)
        #expect(try store.patientsForPractitioner(practitioner).contains(patient) == expected)
    }

    @Test("references were resolved, including the conditional ones")
    func referencesResolved() throws {
        let encounter = try #require(try fixture.store.resource(type: "Encounter", id: "e2"))
        let text = String(decoding: encounter, as: UTF8.self)
        #expect(text.contains("\"reference\":\"Practitioner/pr2\""))
        let provenance = try #require(try fixture.store.resource(type: "Provenance", id: "prov1"))
        let provenanceText = String(decoding: provenance, as: UTF8.self)
        #expect(provenanceText.contains("\"reference\":\"Practitioner/pr1\""))
        #expect(provenanceText.contains("\"reference\":\"Observation/o1\""))
        let observation = try #require(try fixture.store.resource(type: "Observation", id: "o1"))
        #expect(String(decoding: observation, as: UTF8.self).contains("\"value\":1.50"))
    }

    @Test("clinical search and $everything follow the compartment")
    func compartmentReads() throws {
        let store = fixture.store
        let observations = try store.search(
            type: "Observation", patient: "p1", count: 10, offset: 0)
        #expect(observations.total == 1)
        #expect(observations.resources.map(\.id) == ["o1"])
        let all = try store.search(type: "Observation", patient: nil, count: 1, offset: 1)
        #expect(all.total == 2)
        #expect(all.resources.map(\.id) == ["o2"])
        let everything = try store.everything(patient: "p1")
        let names = everything.map { $0.type + "/" + $0.id }
        #expect(names == ["Patient/p1", "Encounter/e1", "Observation/o1", "Provenance/prov1"])
        #expect(try store.everything(patient: "nobody").isEmpty)
    }
}
