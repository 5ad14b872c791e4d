import Store
import Testing

@testable import Audit

@Suite("Audit reader over index blocks")
struct ReaderBlockTests {
    /// A writer with `batch`-entry index blocks that has committed `entries`, one per commit,
    /// and closed (so every entry is indexed).
    static func closedLog(_ directory: TemporaryDirectory, batch: Int, _ entries: [AuditEntry]) throws
        -> AuditReader
    {
        var configuration = Samples.configuration(directory)
        configuration.indexBatchSize = batch
        let writer = try AuditWriter(configuration: configuration, signingKey: Samples.signingKey)
        for entry in entries {
            _ = try writer.appendAndWait(entry, timeout: .seconds(10)).get()
        }
        try writer.close()
        return try AuditReader.open(path: directory.file("audit.sqlite"))
    }

    static func numbered(_ entries: [AuditEntry]) -> [AuditEntry] {
        entries.enumerated().map { offset, entry in
            var numbered = entry
            numbered.seq = Int64(offset + 1)
            return numbered
        }
    }

    @Test("more candidate blocks than one index query returns are followed to the end")
    func manyBlocks() throws {
        let directory = try TemporaryDirectory()
        let entries = Self.numbered((0..<150).map { Samples.entry($0) })
        // One entry per block: 150 blocks, more than two index queries' worth.
        let reader = try Self.closedLog(directory, batch: 1, entries)
        #expect(try reader.events(filter: AuditFilter(), limit: 1000).entries == entries)
        let bob = AuditFilter(actor: "bob")
        #expect(try reader.events(filter: bob, limit: 1000).entries == entries.filter(bob.matches))
        var cursor: Int64 = 0
        var paged: [AuditEntry] = []
        while true {
            let page = try reader.events(filter: bob, limit: 7, after: cursor)
            paged += page.entries
            guard let next = page.nextCursor else { break }
            cursor = next
        }
        #expect(paged == entries.filter(bob.matches))
        let window = AuditFilter(since: 1_700_000_100_000, until: 1_700_000_110_000)
        #expect(try reader.events(filter: window, limit: 1000).entries.map(\.seq) == Array(101...110))
    }

    /// Entries whose values look like each other or like the encoding around them.
    static let lookalikes: [AuditEntry] = {
        func entry(actor: String, patient: String?, details: [String: String] = [:]) -> AuditEntry {
            AuditEntry(
                time: 1_700_000_000_000, event: "fhir.read", actor: actor, roles: ["clinician"],
                action: "read", outcome: "allowed", status: 200, patient: patient,
                resources: ["Patient/x"], details: details)
        }
        return numbered([
            entry(actor: "alice", patient: "p1"),
            entry(actor: "alice", patient: "p10"),
            entry(actor: "al\"ice", patient: "p1"),
            entry(actor: "al\\ice", patient: nil),
            entry(actor: "bob", patient: "p2", details: ["note": "\"patient\":\"p1\""]),
            entry(actor: "bob", patient: "p2", details: ["patient": "p1"]),
            entry(actor: "ålice", patient: ""),
        ])
    }()

    static let lookalikeFilters: [(AuditFilter, [Int64])] = [
        (AuditFilter(patient: "p1"), [1, 3]),
        (AuditFilter(patient: "p10"), [2]),
        (AuditFilter(actor: "al\"ice"), [3]),
        (AuditFilter(actor: "al\\ice"), [4]),
        (AuditFilter(actor: "alice"), [1, 2]),
        (AuditFilter(actor: "ålice"), [7]),
        (AuditFilter(patient: ""), []),
        (AuditFilter(actor: "bob", patient: "p1"), []),
    ]

    @Test("filters match whole values, escaped as stored, indexed or in the tail", arguments: lookalikeFilters)
    func lookalikeValues(filter: AuditFilter, seqs: [Int64]) throws {
        for batch in [2, 1_000] {
            let directory = try TemporaryDirectory()
            var configuration = Samples.configuration(directory)
            configuration.indexBatchSize = batch
            let writer = try AuditWriter(configuration: configuration, signingKey: Samples.signingKey)
            for entry in Self.lookalikes {
                _ = try writer.appendAndWait(entry, timeout: .seconds(10)).get()
            }
            // Open: batches of two index entries 1...6; batches of 1000 leave all in the tail.
            let reader = try AuditReader.open(path: directory.file("audit.sqlite"))
            #expect(try reader.events(filter: filter, limit: 100).entries.map(\.seq) == seqs, "batch \(batch)")
            try writer.close()
        }
        #expect(Self.lookalikes.filter(filter.matches).map(\.seq) == seqs)
    }

    static let searches: [(String, String, Bool)] = [
        ("abc", "abc", true),
        ("xxabcxx", "abc", true),
        ("ababc", "abc", true),
        ("abab", "abc", false),
        ("ab", "abc", false),
        ("", "a", false),
        ("abc", "", true),
        ("\"patient\":\"p10\"", "\"patient\":\"p1\"", false),
    ]

    @Test("the byte search finds exactly the occurrences", arguments: searches)
    func byteSearch(haystack: String, needle: String, found: Bool) {
        #expect(AuditReader.bytes(Array(haystack.utf8), contain: Array(needle.utf8)) == found)
    }

    /// Writes `entries` (numbered) into a new log at `path` with the version 1 schema, whose
    /// index was a row per entry in `audit_index`.
    static func writeVersion1Log(_ path: String, _ entries: [AuditEntry]) throws {
        do {
            let database = try Database(path: path)
            try Migrator(scripts: Array(AuditSchema.migrator.scripts.prefix(1))).migrate(database)
            var previous = AuditChain.genesis
            for entry in entries {
                let bytes = try AuditCanonicalEncoder.encode(entry)
                let hash = AuditChain.hash(previous: previous, entry: bytes)
                try database.run(
                    "INSERT INTO audit_log(seq, prev_hash, entry, hash) VALUES (?, ?, ?, ?)",
                    [.integer(entry.seq), .blob(previous), .blob(bytes), .blob(hash)])
                try database.run(
                    """
                    INSERT INTO audit_index(seq, time, actor, patient, event, action, outcome,
                        grant_id, resource_count) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 1)
                    """,
                    [
                        .integer(entry.seq), .integer(entry.time), .text(entry.actor),
                        .text(entry.patient ?? ""), .text(entry.event), .text(entry.action),
                        .text(entry.outcome),
                    ])
                previous = hash
            }
        }
    }

    @Test("a log from before the block index is read entry by entry, as an offline copy is")
    func readingVersion1() throws {
        let directory = try TemporaryDirectory()
        let entries = Self.numbered((0..<10).map { Samples.entry($0) })
        try Self.writeVersion1Log(directory.file("audit.sqlite"), entries)
        let reader = try AuditReader.open(path: directory.file("audit.sqlite"))
        let denied = AuditFilter(outcome: "denied")
        #expect(try reader.events(filter: denied, limit: 100).entries == entries.filter(denied.matches))
        #expect(try reader.disclosures(patient: "p2", limit: 100).entries.map(\.seq) == [2, 5, 8])
    }

    @Test("a version 1 log loses audit_index and is indexed in blocks when the writer opens it")
    func migrationFromVersion1() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.sqlite")
        let entries = Self.numbered((0..<10).map { Samples.entry($0) })
        try Self.writeVersion1Log(path, entries)
        var configuration = Samples.configuration(directory)
        configuration.indexBatchSize = 4
        let writer = try AuditWriter(configuration: configuration, signingKey: Samples.signingKey)
        let database = try Database(path: path, readOnly: true)
        #expect(try database.scalar("PRAGMA user_version") == 3)
        #expect(
            try database.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'audit_index'") == 0)
        let blocks = try database.query("SELECT first_seq, last_seq FROM audit_blocks ORDER BY first_seq") {
            "\($0.int64(at: 0))-\($0.int64(at: 1))"
        }
        #expect(blocks == ["1-4", "5-8", "9-10"])
        let reader = AuditReader(database: database)
        let carol = AuditFilter(actor: "carol")
        #expect(try reader.events(filter: carol, limit: 100).entries == entries.filter(carol.matches))
        try writer.close()
    }
}
