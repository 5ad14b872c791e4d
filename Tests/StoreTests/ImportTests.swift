import Foundation
import Testing

@testable import Store

@Suite("Bundle import")
struct ImportTests {
    @Test("importing the same bundle twice changes nothing")
    func reimportIsUnchanged() throws {
        let fixture = try StoreFixture()
        let first = try fixture.store.importBundle(bytes: SmallBundle.bytes)
        #expect(first.totals == ImportReport.Counts(created: 13))
        #expect(first.countsByType["Patient"] == ImportReport.Counts(created: 5))
        #expect(first.unresolvedReferences == 0)
        let before = try fixture.store.storedTypes()
        let second = try fixture.store.importBundle(bytes: SmallBundle.bytes)
        #expect(second.totals == ImportReport.Counts(unchanged: 13))
        #expect(second.resources.allSatisfy { $0.version == 1 })
        #expect(try fixture.store.storedTypes() == before)
    }

    @Test("changed content gets a new version; content seen before is not re-applied")
    func versions() throws {
        var clockTime = Date(timeIntervalSince1970: 1_700_000_000)
        let fixture = try StoreFixture(clock: { clockTime })
        let store = fixture.store
        let original = try Self.patientBundle(gender: "female")
        let changed = try Self.patientBundle(gender: "other")
        #expect(try store.importBundle(data: original).countsByType["Patient"]?.created == 1)
        clockTime += 60
        let update = try store.importBundle(data: changed)
        let expected = ImportReport.Resource(
            type: "Patient", id: "v1", version: 2, outcome: .updated)
        #expect(update.resources == [expected])
        let stored = try #require(try store.storedResource(type: "Patient", id: "v1"))
        #expect(stored.version == 2)
        #expect(stored.lastUpdated == "2023-11-14T22:14:20.000Z")
        #expect(String(decoding: stored.json, as: UTF8.self).contains("\"gender\":\"other\""))
        let replay = try store.importBundle(data: original)
        #expect(replay.resources.first?.outcome == .unchanged)
        #expect(try store.storedResource(type: "Patient", id: "v1")?.version == 2)
        #expect(try store.searchPatients(SearchParameters(gender: ["other"])).total == 1)
        #expect(try store.searchPatients(SearchParameters(gender: ["female"])).total == 0)
    }

    @Test("server-managed meta is dropped; member order and spacing do not matter")
    func canonicalComparison() throws {
        let fixture = try StoreFixture()
        let plain = Array(
            """
            {"resourceType":"Bundle","type":"collection","entry":[{"resource":
            {"resourceType":"Practitioner","id":"d1","active":true,"name":[{"family":"Doe"}]}}]}
            """.utf8)
        let reordered = Array(
            """
            {"type":"collection","resourceType":"Bundle","entry":[{"resource":
              {"name" : [ {"family":"Doe"} ], "active":true, "id":"d1",
               "meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z"},
               "resourceType":"Practitioner"}}]}
            """.utf8)
        #expect(try fixture.store.importBundle(bytes: plain).totals.created == 1)
        #expect(try fixture.store.importBundle(bytes: reordered).totals.unchanged == 1)
        let json = try #require(try fixture.store.resource(type: "Practitioner", id: "d1"))
        let expected =
            "{\"resourceType\":\"Practitioner\",\"id\":\"d1\",\"active\":true,"
            + "\"name\":[{\"family\":\"Doe\"}]}"
        #expect(String(decoding: json, as: UTF8.self) == expected)
    }

    @Test("an entry without an id takes the id of its urn:uuid fullUrl")
    func idFromFullUrl() throws {
        let fixture = try StoreFixture()
        let bundle = Array(
            """
            {"resourceType":"Bundle","type":"transaction","entry":[
              {"fullUrl":"urn:uuid:0b5c1a3e-9a59-4c8e-9d7f-0d8f7f1d2a11",
               "resource":{"resourceType":"Patient"}},
              {"fullUrl":"https://example.org/fhir/Observation/obs-9",
               "resource":{"resourceType":"Observation",
                 "subject":{"reference":"urn:uuid:0b5c1a3e-9a59-4c8e-9d7f-0d8f7f1d2a11"}}},
              {"resource":{"resourceType":"Encounter",
                 "subject":{"reference":"urn:uuid:ffffffff-0000-4000-8000-000000000000"}},
               "request":{"method":"PUT","url":"Encounter/enc-3"}}
            ]}
            """.utf8)
        let report = try fixture.store.importBundle(bytes: bundle)
        let names = report.resources.map { $0.type + "/" + $0.id }
        #expect(
            names == [
                "Patient/0b5c1a3e-9a59-4c8e-9d7f-0d8f7f1d2a11", "Observation/obs-9",
                "Encounter/enc-3",
            ])
        #expect(report.unresolvedReferences == 1)
        #expect(
            try fixture.store.patientCompartment(of: "Observation", id: "obs-9")
                == "0b5c1a3e-9a59-4c8e-9d7f-0d8f7f1d2a11")
        #expect(try fixture.store.patientCompartment(of: "Encounter", id: "enc-3") == nil)
    }

    @Test("ambiguous or unknown conditional references are left as they are and counted")
    func unresolvedConditionalReferences() throws {
        let fixture = try StoreFixture()
        let npi = SmallBundle.npiSystem
        let bundle = Array(
            """
            {"resourceType":"Bundle","type":"collection","entry":[
              {"resource":{"resourceType":"Practitioner","id":"a",
                "identifier":[{"system":"\(npi)","value":"5"}]}},
              {"resource":{"resourceType":"Practitioner","id":"b",
                "identifier":[{"system":"\(npi)","value":"5"}]}},
              {"resource":{"resourceType":"Encounter","id":"x","participant":[
                {"individual":{"reference":"Practitioner?identifier=\(npi)|5"}},
                {"individual":{"reference":"Practitioner?identifier=\(npi)|6"}},
                {"individual":{"reference":"Practitioner?name=smith"}}]}}
            ]}
            """.utf8)
        let report = try fixture.store.importBundle(bytes: bundle)
        #expect(report.unresolvedReferences == 3)
        let json = try #require(try fixture.store.resource(type: "Encounter", id: "x"))
        #expect(String(decoding: json, as: UTF8.self).contains("Practitioner?identifier="))
    }

    /// Edits applied to the small bundle, and a fragment the refusal must contain.
    static let malformedCases:
        [(
            name: String, edit: @Sendable (inout [String: Any]) -> Void,
            message: String
        )] = [
            ("not a Bundle", { $0["resourceType"] = "Patient" }, "not a FHIR Bundle"),
            ("searchset", { $0["type"] = "searchset" }, "only transaction and collection"),
            ("entry not an array", { $0["entry"] = ["x": 1] }, "Bundle.entry is not an array"),
            (
                "no resource", { editEntry(6, &$0) { $0["resource"] = nil } },
                "entry 6 (urn:uuid:00000000-0000-4000-8000-0000000000a2) has no resource"
            ),
            (
                "no resourceType", { editResource(6, &$0) { $0["resourceType"] = nil } },
                "entry 6 (urn:uuid:00000000-0000-4000-8000-0000000000a2) resource has no resourceType"
            ),
            (
                "bad id syntax", { editResource(6, &$0) { $0["id"] = "bad id!" } },
                "entry 6 (urn:uuid:00000000-0000-4000-8000-0000000000a2) resource id is not a valid"
            ),
            (
                "id too long", { editResource(6, &$0) { $0["id"] = String(repeating: "a", count: 65) } },
                "resource id is not a valid FHIR id"
            ),
            ("id not a string", { editResource(6, &$0) { $0["id"] = 12 } }, "id is not a string"),
            (
                "no id and no fullUrl",
                {
                    editEntry(6, &$0) { $0["fullUrl"] = nil }
                    editResource(6, &$0) { $0["id"] = nil }
                }, "entry 6 resource has no id"
            ),
            (
                "duplicate resource", { editResource(6, &$0) { $0["id"] = "pr1" } },
                "repeats Practitioner/pr1 of entry 5"
            ),
            (
                "bad type name", { editResource(6, &$0) { $0["resourceType"] = "practitioner" } },
                "not a valid type name"
            ),
        ]

    @Test(
        "a malformed bundle is refused, naming the entry, and nothing is written",
        arguments: malformedCases)
    func malformedBundle(
        name: String, edit: @Sendable (inout [String: Any]) -> Void,
        message: String
    ) throws {
        let fixture = try StoreFixture()
        var bundle = try Fixtures.jsonObject(Data(SmallBundle.bytes))
        edit(&bundle)
        let data = try Fixtures.data(bundle)
        let error = try #require(throws: StoreError.self, "\(name)") {
            try fixture.store.importBundle(data: data)
        }
        #expect(error.code == .malformedBundle)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(try fixture.store.storedTypes().isEmpty)
    }

    @Test("a bundle holding a type the store does not keep is refused whole, naming the entry")
    func typeNotStored() throws {
        let directory = try TemporaryDirectory()
        let store = try RecordStore(
            database: Database(path: directory.path("records.sqlite")), storesType: { $0 != "Encounter" })
        let error = try #require(throws: StoreError.self) { try store.importBundle(bytes: SmallBundle.bytes) }
        #expect(error.code == .malformedBundle)
        #expect(error.message.contains("is a resource of type Encounter, which this server does not store"))
        #expect(error.message.hasPrefix("entry "))
        #expect(try store.storedTypes().isEmpty, "nothing of the bundle is written")

        let everything = try RecordStore(database: Database(path: directory.path("all.sqlite")))
        let report = try everything.importBundle(bytes: SmallBundle.bytes)
        #expect((report.countsByType["Encounter"]?.created ?? 0) > 0, "by default every valid type is kept")
    }

    @Test("truncated JSON is refused with its byte offset")
    func truncatedJSON() throws {
        let fixture = try StoreFixture()
        let bytes = Array(SmallBundle.bytes.prefix(SmallBundle.bytes.count / 2))
        let error = try #require(throws: StoreError.self) {
            try fixture.store.importBundle(bytes: bytes)
        }
        #expect(error.code == .malformedBundle)
        #expect(error.message.hasPrefix("bundle is not valid JSON"))
        #expect(try fixture.store.storedTypes().isEmpty)
    }

    static func editEntry(
        _ index: Int, _ bundle: inout [String: Any],
        _ change: (inout [String: Any]) -> Void
    ) {
        var entries = Fixtures.entries(of: bundle)
        change(&entries[index])
        bundle["entry"] = entries
    }

    static func editResource(
        _ index: Int, _ bundle: inout [String: Any],
        _ change: (inout [String: Any]) -> Void
    ) {
        editEntry(index, &bundle) { entry in
            var resource = Fixtures.resource(of: entry)
            change(&resource)
            entry["resource"] = resource
        }
    }

    static func patientBundle(gender: String) throws -> Data {
        let patient: [String: Any] = [
            "resourceType": "Patient", "id": "v1", "gender": gender,
            "name": [["family": "Version"]],
        ]
        let bundle: [String: Any] = [
            "resourceType": "Bundle", "type": "collection", "entry": [["resource": patient]],
        ]
        return try Fixtures.data(bundle)
    }
}
