import Foundation
import Testing

@testable import Store

/// Imports the shared Synthea sample output. The data lives beside the repository
/// (`../shared/data/synthea-r4`), not in it; without it these tests are skipped, not failed.
@Suite(
    "Synthea import",
    .enabled(
        if: Fixtures.syntheaAvailable, "Synthea bundles not found at ../shared/data/synthea-r4"))
struct SyntheaImportTests {
    /// Per-type outcomes computed from the raw bundle JSON, independently of the store: a
    /// resource is created the first time its type/id appears, unchanged when its content
    /// equals a version seen before, updated otherwise.
    static func expectedCounts(files: [URL]) throws -> [String: ImportReport.Counts] {
        var seen: [String: [NSDictionary]] = [:]
        var counts: [String: ImportReport.Counts] = [:]
        for file in files {
            let bundle = try Fixtures.jsonObject(try Data(contentsOf: file))
            for entry in Fixtures.entries(of: bundle) {
                let resource = Fixtures.resource(of: entry) as NSDictionary
                let type = try #require(resource["resourceType"] as? String)
                let key = type + "/" + (try #require(resource["id"] as? String))
                if let versions = seen[key] {
                    if versions.contains(resource) {
                        counts[type, default: .init()].unchanged += 1
                    } else {
                        counts[type, default: .init()].updated += 1
                        seen[key]?.append(resource)
                    }
                } else {
                    counts[type, default: .init()].created += 1
                    seen[key] = [resource]
                }
            }
        }
        return counts
    }

    static func importAll(_ files: [URL], into store: RecordStore) throws -> ImportReport {
        var total = ImportReport()
        for file in files {
            let report = try store.importBundle(data: try Data(contentsOf: file))
            for resource in report.resources {
                total.record(
                    type: resource.type, id: resource.id, version: resource.version,
                    outcome: resource.outcome)
            }
            total.unresolvedReferences += report.unresolvedReferences
        }
        return total
    }

    @Test("every bundle imports with the counts the raw JSON predicts, all references resolved")
    func importsEverything() throws {
        let fixture = try StoreFixture()
        let files = Fixtures.syntheaFiles
        let report = try Self.importAll(files, into: fixture.store)
        let expected = try Self.expectedCounts(files: files)
        #expect(report.countsByType == expected)
        #expect(report.unresolvedReferences == 0)
        let stored = try fixture.store.storedTypes()
        #expect(stored == expected.mapValues { $0.created })
        #expect(stored["Patient"] == files.count - 2)
        let leftovers = try fixture.store.database.scalar(
            "SELECT count(*) FROM resources WHERE instr(json, CAST('urn:uuid:' AS BLOB)) > 0")
        #expect(leftovers == 0)
    }

    @Test("importing everything twice, in either order, changes nothing the second time")
    func idempotent() throws {
        let fixture = try StoreFixture()
        let files = Fixtures.syntheaFiles
        _ = try Self.importAll(files.reversed(), into: fixture.store)
        let typesBefore = try fixture.store.storedTypes()
        let versionSum = "SELECT sum(version) FROM resources"
        let versionsBefore = try fixture.store.database.scalar(versionSum)
        let second = try Self.importAll(files, into: fixture.store)
        #expect(second.totals.created == 0)
        #expect(second.totals.updated == 0)
        #expect(second.totals.unchanged == second.resources.count)
        #expect(try fixture.store.storedTypes() == typesBefore)
        #expect(try fixture.store.database.scalar(versionSum) == versionsBefore)
    }

    @Test("a bundle broken in the middle is refused by entry and writes nothing")
    func brokenBundle() throws {
        let fixture = try StoreFixture()
        let shared = Fixtures.syntheaFiles.filter { Fixtures.isSharedBundle($0.lastPathComponent) }
        _ = try Self.importAll(shared, into: fixture.store)
        let before = try fixture.store.storedTypes()
        let file = try #require(Fixtures.firstPatientFile)
        let original = try Data(contentsOf: file)

        var bundle = try Fixtures.jsonObject(original)
        let entries = Fixtures.entries(of: bundle)
        let middle = entries.count / 2
        let fullUrl = try #require(entries[middle]["fullUrl"] as? String)
        ImportTests.editResource(middle, &bundle) { $0["id"] = "not/valid" }
        let error = try #require(throws: StoreError.self) {
            try fixture.store.importBundle(data: try Fixtures.data(bundle))
        }
        #expect(error.code == .malformedBundle)
        #expect(error.message.contains("entry \(middle) (\(fullUrl))"))

        let truncated = original.prefix(original.count - 100)
        let truncatedError = try #require(throws: StoreError.self) {
            try fixture.store.importBundle(data: truncated)
        }
        #expect(truncatedError.code == .malformedBundle)
        #expect(try fixture.store.storedTypes() == before)
    }

    @Test("a patient bundle's resources land in its patient's compartment")
    func compartmentsAndParticipation() throws {
        let fixture = try StoreFixture()
        let file = try #require(Fixtures.firstPatientFile)
        let data = try Data(contentsOf: file)
        _ = try fixture.store.importBundle(data: data)

        let entries = Fixtures.entries(of: try Fixtures.jsonObject(data))
        var idByFullUrl: [String: String] = [:]
        for entry in entries {
            let id = Fixtures.resource(of: entry)["id"] as? String
            idByFullUrl[entry["fullUrl"] as? String ?? ""] = id
        }
        let patient = try #require(
            entries.map(Fixtures.resource).first { $0["resourceType"] as? String == "Patient" })
        let patientID = try #require(patient["id"] as? String)
        var practitioners = Set<String>()
        for resource in entries.map(Fixtures.resource) {
            let type = try #require(resource["resourceType"] as? String)
            let id = try #require(resource["id"] as? String)
            let expected = ["Organization", "Practitioner"].contains(type) ? nil : patientID
            #expect(try fixture.store.patientCompartment(of: type, id: id) == expected, "\(type)")
            let participants = type == "Encounter" ? resource["participant"] : nil
            for participant in participants as? [[String: Any]] ?? [] {
                let individual = participant["individual"] as? [String: Any]
                let reference = try #require(individual?["reference"] as? String)
                practitioners.insert(try #require(idByFullUrl[reference]))
            }
        }
        #expect(!practitioners.isEmpty)
        #expect(try fixture.store.practitionersForPatient(patientID) == practitioners.sorted())
        for practitioner in practitioners {
            #expect(
                try fixture.store.hasEncounterParticipation(
                    practitionerID: practitioner, patientID: patientID))
        }
        let someone = try #require(practitioners.first)
        #expect(
            try fixture.store.hasEncounterParticipation(
                practitionerID: someone, patientID: "someone-else") == false)
    }
}
