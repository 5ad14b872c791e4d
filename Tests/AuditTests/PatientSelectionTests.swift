import Store
import Testing

@testable import Audit

/// Which entries concern a patient: the compartment an entry names, and the Patient resources
/// a search across patients returned without naming one.
@Suite("Audit entries by patient")
struct PatientSelectionTests {
    static func entry(
        _ event: String, patient: String?, resources: [String], outcome: String = "allowed"
    ) -> AuditEntry {
        AuditEntry(
            time: 1_700_000_000_000, event: event, actor: "dr.a", roles: ["clinician"], action: event,
            outcome: outcome, status: outcome == "allowed" ? 200 : 403, patient: patient, resources: resources)
    }

    static let cases: [(AuditEntry, patients: [String], ofX: [String])] = [
        (entry("fhir.read", patient: "x", resources: ["Observation/o1"]), ["x"], ["Observation/o1"]),
        (entry("fhir.search", patient: nil, resources: ["Patient/y", "Patient/x"]), ["y", "x"], ["Patient/x"]),
        (entry("fhir.search", patient: "x", resources: ["Patient/x"]), ["x"], ["Patient/x"]),
        (entry("fhir.search", patient: nil, resources: ["Patient/xx", "Observation/x"]), ["xx"], []),
        (entry("fhir.read", patient: "y", resources: ["Patient/y", "Patient/y"]), ["y"], []),
        (entry("fhir.search", patient: "", resources: ["Patient/"]), [], []),
    ]

    @Test("an entry concerns its compartment and the patients whose Patient resource it lists", arguments: cases)
    func patients(entry: AuditEntry, patients: [String], ofX: [String]) {
        #expect(entry.patients == patients)
        #expect(entry.concerns(patient: "x") == patients.contains("x"))
        #expect(entry.resources(of: "x") == ofX)
        #expect(!entry.concerns(patient: ""))
    }

    /// Compartment reads, searches across patients, and a refusal.
    static let log: [AuditEntry] = ReaderBlockTests.numbered([
        entry("fhir.read", patient: "x", resources: ["Patient/x"]),
        entry("fhir.search", patient: nil, resources: ["Patient/y", "Patient/x", "Patient/z"]),
        entry("fhir.read", patient: "y", resources: ["Observation/o9"]),
        entry("fhir.search", patient: nil, resources: ["Patient/y"]),
        entry("fhir.read", patient: "x", resources: [], outcome: "denied"),
        entry("fhir.search", patient: nil, resources: ["Patient/xy", "Patient/z"]),
        entry("fhir.search", patient: nil, resources: ["Patient/x"]),
        entry("fhir.transaction", patient: nil, resources: ["Patient/x", "Observation/o2"]),
    ])

    @Test("filters and disclosures find a patient named only by a search result, indexed or not",
          arguments: [1, 2, 1000])
    func selection(batch: Int) throws {
        let directory = try TemporaryDirectory()
        let reader = try ReaderBlockTests.closedLog(directory, batch: batch, Self.log)
        let x = try reader.events(filter: AuditFilter(patient: "x"), limit: 100).entries
        #expect(x.map(\.seq) == [1, 2, 5, 7, 8])
        let z = try reader.events(filter: AuditFilter(patient: "z", event: "fhir.search"), limit: 100).entries
        #expect(z.map(\.seq) == [2, 6])
        #expect(try reader.disclosures(patient: "x", limit: 100).entries.map(\.seq) == [1, 2, 7, 8])
        let disclosed = try reader.disclosures(patient: "x", limit: 100, inbound: ["fhir.transaction"]).entries
        #expect(disclosed.map(\.seq) == [1, 2, 7])
        #expect(disclosed.map { $0.resources(of: "x") } == [["Patient/x"], ["Patient/x"], ["Patient/x"]])
        #expect(try reader.disclosures(patient: "y", limit: 100).entries.map(\.seq) == [2, 3, 4])
        #expect(try reader.disclosures(patient: "", limit: 100).entries.isEmpty)
    }

    @Test("a version 2 index, which named only the compartment, is read past offline and rebuilt by the writer")
    func version2Index() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.sqlite")
        do {
            let database = try Database(path: path)
            try Migrator(scripts: Array(AuditSchema.migrator.scripts.prefix(2))).migrate(database)
            var previous = AuditChain.genesis
            for entry in Self.log {
                let bytes = try AuditCanonicalEncoder.encode(entry)
                let hash = AuditChain.hash(previous: previous, entry: bytes)
                try database.run(
                    "INSERT INTO audit_log(seq, prev_hash, entry, hash) VALUES (?, ?, ?, ?)",
                    [.integer(entry.seq), .blob(previous), .blob(bytes), .blob(hash)])
                previous = hash
            }
            // One block as version 2 wrote it: patient terms for the compartment only.
            try database.run("INSERT INTO audit_blocks VALUES (1, 7, 1700000000000, 1700000000000)")
            for term in ["a:dr.a", "p:x", "p:y", "o:allowed", "o:denied", "e:fhir.read", "e:fhir.search"] {
                try database.run("INSERT INTO audit_terms(term, block) VALUES (?, 1)", [.text(term)])
            }
        }
        let offline = try AuditReader.open(path: path)
        #expect(try offline.events(filter: AuditFilter(patient: "z"), limit: 100).entries.map(\.seq) == [2, 6])

        let writer = try AuditWriter(configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        try writer.close()
        let database = try Database(path: path, readOnly: true)
        #expect(try database.scalar("PRAGMA user_version") == 3)
        #expect(try database.scalar("SELECT count(*) FROM audit_terms WHERE term = 'p:z'") == 1)
        let reader = AuditReader(database: database)
        #expect(try reader.events(filter: AuditFilter(patient: "z"), limit: 100).entries.map(\.seq) == [2, 6])
        let disclosed = try reader.disclosures(patient: "x", limit: 100, inbound: ["fhir.transaction"])
        #expect(disclosed.entries.map(\.seq) == [1, 2, 7])
    }
}
