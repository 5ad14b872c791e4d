import Foundation
import Testing

@testable import Store

/// The served form kept with each version: written by imports, filled by the migration for
/// rows of an older store, and read back byte for byte.
@Suite("Served form")
struct ServedFormTests {
    /// Rows as the first schema stored them: canonical JSON without server meta.
    static let legacyRows: [(type: String, id: String, version: Int, lastUpdated: String, json: String)] = [
        ("Patient", "p1", 1, "2024-01-02T03:04:05.000Z", #"{"resourceType":"Patient","id":"p1","gender":"male"}"#),
        (
            "Observation", "o1", 3, "2025-06-07T08:09:10.500Z",
            #"{"resourceType":"Observation","id":"o1","meta":{"profile":["http://x/y"]},"status":"final"}"#
        ),
        ("Basic", "b1", 12, "2026-12-31T23:59:59.999Z", #"{"resourceType":"Basic","id":"b1"}"#),
    ]

    static let expectedServed: [String: String] = [
        "Patient/p1":
            #"{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","#
            + #""lastUpdated":"2024-01-02T03:04:05.000Z"},"gender":"male"}"#,
        "Observation/o1":
            #"{"resourceType":"Observation","id":"o1","meta":{"versionId":"3","#
            + #""lastUpdated":"2025-06-07T08:09:10.500Z","profile":["http://x/y"]},"status":"final"}"#,
        "Basic/b1":
            #"{"resourceType":"Basic","id":"b1","meta":{"versionId":"12","#
            + #""lastUpdated":"2026-12-31T23:59:59.999Z"}}"#,
    ]

    @Test("opening a store made by the first schema fills the served form of every row")
    func migrationFillsLegacyRows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("records.sqlite")
        do {
            let legacy = try Database(path: path)
            try Migrator(component: "records", scripts: [RecordSchema.version1]).migrate(legacy)
            for row in Self.legacyRows {
                try legacy.run(
                    "INSERT INTO resources(type, id, version, json, last_updated) VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(row.type), .text(row.id), .int(row.version), .blob(Array(row.json.utf8)),
                        .text(row.lastUpdated),
                    ])
            }
        }
        let store = try RecordStore(database: try Database(path: path))
        #expect(try RecordSchema.migrator.currentVersion(of: store.database) == 2)
        #expect(try store.database.scalar("SELECT count(*) FROM resources WHERE served IS NULL") == 0)
        for row in Self.legacyRows {
            let served = try #require(try store.servedResource(type: row.type, id: row.id))
            #expect(served.version == row.version)
            #expect(String(decoding: served.body, as: UTF8.self) == Self.expectedServed["\(row.type)/\(row.id)"])
        }
    }

    @Test("imports store the served form of each new version")
    func importsWriteServedForm() throws {
        var clockTime = Date(timeIntervalSince1970: 1_700_000_000)
        let fixture = try StoreFixture(clock: { clockTime })
        let store = fixture.store
        _ = try store.importBundle(data: try ImportTests.patientBundle(gender: "female"))
        let first = try #require(try store.servedResource(type: "Patient", id: "v1"))
        #expect(first.version == 1)
        #expect(
            String(decoding: first.body, as: UTF8.self).contains(
                #""meta":{"versionId":"1","lastUpdated":"2023-11-14T22:13:20.000Z"}"#))
        clockTime += 60
        _ = try store.importBundle(data: try ImportTests.patientBundle(gender: "other"))
        let second = try #require(try store.servedResource(type: "Patient", id: "v1"))
        let stored = try #require(try store.storedResource(type: "Patient", id: "v1"))
        #expect(second.version == 2)
        #expect(second.body == ServedJSON.splice(stored.json, version: 2, lastUpdated: stored.lastUpdated))
        #expect(stored.servedJSON() == second.body)
        #expect(String(decoding: second.body, as: UTF8.self).contains(#""gender":"other""#))
    }

    @Test("every imported resource serves exactly the splice of its stored JSON")
    func servedMatchesSplice() throws {
        let fixture = try StoreFixture()
        let report = try fixture.store.importBundle(bytes: SmallBundle.bytes)
        #expect(report.resources.count == 13)
        for resource in report.resources {
            let stored = try #require(try fixture.store.storedResource(type: resource.type, id: resource.id))
            let served = try fixture.store.servedResource(type: resource.type, id: resource.id)
            let splice = ServedJSON.splice(stored.json, version: stored.version, lastUpdated: stored.lastUpdated)
            #expect(served == ServedResource(version: stored.version, body: splice))
        }
    }

    @Test("a missing resource has no served form; a row without one is spliced on demand")
    func missingAndUnfilled() throws {
        let fixture = try StoreFixture()
        _ = try fixture.store.importBundle(bytes: SmallBundle.bytes)
        #expect(try fixture.store.servedResource(type: "Patient", id: "nobody") == nil)
        #expect(try fixture.store.servedResource(type: "Observation", id: "p1") == nil)
        let before = try #require(try fixture.store.servedResource(type: "Patient", id: "p1"))
        try fixture.store.database.run(
            "UPDATE resources SET served = NULL WHERE type = ? AND id = ?", [.text("Patient"), .text("p1")])
        #expect(try fixture.store.servedResource(type: "Patient", id: "p1") == before)
        let stored = try #require(try fixture.store.storedResource(type: "Patient", id: "p1"))
        #expect(stored.served == nil)
        #expect(stored.servedJSON() == before.body)
    }
}
