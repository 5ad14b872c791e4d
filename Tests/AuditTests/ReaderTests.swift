import Foundation
import Store
import Testing

@testable import Audit

@Suite("Audit reader")
struct ReaderTests {
    static let base: Int64 = 1_700_000_000_000

    /// Sixty access entries (see `Samples.entry`) and three break-glass entries, written by
    /// the writer with checkpoints every 25, one entry per commit.
    ///
    /// `indexBatchSize` and `close` decide how much of the log `audit_index` covers when the
    /// reader looks: a closed writer indexes everything; an open one has indexed the whole
    /// batches only, and the reader must find the rest in the log itself.
    final class Log: Sendable {
        let directory: TemporaryDirectory
        let path: String
        let writer: AuditWriter
        let entries: [AuditEntry]

        init(indexBatchSize: Int = 256, close: Bool = true) throws {
            directory = try TemporaryDirectory()
            directory.removeAtExit()
            path = directory.file("audit.sqlite")
            var configuration = Samples.configuration(directory, checkpointEvery: 25)
            configuration.indexBatchSize = indexBatchSize
            writer = try AuditWriter(configuration: configuration, signingKey: Samples.signingKey)
            var entries = (0..<60).map { Samples.entry($0) }
            for (offset, grant) in ["g-1", "g-1", "g-2"].enumerated() {
                entries.append(
                    AuditEntry(
                        time: base + 100_000 + Int64(offset), event: "break_glass.activate",
                        actor: "erin", roles: ["clinician"], action: "activate",
                        outcome: "allowed", status: 201, patient: "p9", grant: grant,
                        reason: "emergency", justification: "unconscious patient"))
            }
            for (offset, entry) in entries.enumerated() {
                _ = try writer.appendAndWait(entry, timeout: .seconds(10)).get()
                entries[offset].seq = Int64(offset + 1)
            }
            self.entries = entries
            if close {
                try writer.close()
            }
        }

        func reader() throws -> AuditReader {
            try AuditReader.open(path: path)
        }

        /// The rows `audit_index` holds, in seq order, each as text, with what the entries
        /// of the same seqs say those rows must be.
        func indexRows() throws -> (stored: [[String]], expected: [[String]]) {
            let database = try Database(path: path, readOnly: true)
            let stored = try database.query(
                """
                SELECT seq, time, actor, patient, event, action, outcome, grant_id, resource_count
                FROM audit_index ORDER BY seq
                """
            ) { row in
                [
                    String(row.int64(at: 0)), String(row.int64(at: 1)), row.text(at: 2) ?? "-",
                    row.text(at: 3) ?? "-", row.text(at: 4) ?? "-", row.text(at: 5) ?? "-",
                    row.text(at: 6) ?? "-", row.text(at: 7) ?? "-", String(row.int64(at: 8)),
                ]
            }
            let expected = stored.map { columns in
                let row = AuditIndex.Row(entries[Int(columns[0])! - 1])
                return [
                    String(row.seq), String(row.time), row.actor, row.patient ?? "-", row.event,
                    row.action, row.outcome, row.grant ?? "-", String(row.resourceCount),
                ]
            }
            return (stored, expected)
        }
    }

    static func fixture(_ make: () throws -> Log) -> Result<Log, AuditError> {
        do {
            return .success(try make())
        } catch let error as AuditError {
            return .failure(error)
        } catch {
            return .failure(AuditError(.storage, operation: "fixture", message: "\(error)"))
        }
    }

    /// Fully indexed (closed), partly indexed (batches of 16: 1...48 indexed, 49...63 not)
    /// and not indexed at all (a batch larger than the log, writer still open).
    static let logs: [String: Result<Log, AuditError>] = [
        "indexed": fixture { try Log() },
        "partly indexed": fixture { try Log(indexBatchSize: 16, close: false) },
        "not indexed": fixture { try Log(indexBatchSize: 1_000_000, close: false) },
    ]
    static let log = logs["indexed"]!
    static let coverage: [(String, Int)] = [
        ("indexed", 63), ("partly indexed", 48), ("not indexed", 0),
    ]

    @Test("the index holds each entry's fields, up to the last whole batch", arguments: coverage)
    func indexCoverage(log name: String, rows: Int) throws {
        let indexed = try Self.logs[name]!.get().indexRows()
        #expect(indexed.stored == indexed.expected)
        #expect(indexed.stored.map { $0[0] } == (0..<rows).map { String($0 + 1) })
    }

    @Test("a writer opened on a log with unindexed entries indexes them first")
    func catchUp() throws {
        let log = try Log(indexBatchSize: 1_000_000, close: false)
        #expect(try log.indexRows().stored.isEmpty)
        // A second writer stands for the restart after a crash: the first never closed.
        var configuration = Samples.configuration(log.directory)
        configuration.indexBatchSize = 1_000_000
        let restarted = try AuditWriter(configuration: configuration, signingKey: Samples.signingKey)
        let indexed = try log.indexRows()
        #expect(indexed.stored.count == 63)
        #expect(indexed.stored == indexed.expected)
        try restarted.close()
    }

    static let filters: [(String, AuditFilter, Int)] = [
        ("everything", AuditFilter(), 63),
        ("one actor", AuditFilter(actor: "alice"), 15),
        ("patient and outcome", AuditFilter(patient: "p1", outcome: "denied"), 4),
        ("a time window", AuditFilter(since: base + 10_000, until: base + 20_000), 10),
        ("an event", AuditFilter(event: "break_glass.activate"), 3),
        ("an action", AuditFilter(action: "read"), 60),
        ("a grant", AuditFilter(grant: "g-1"), 2),
        ("an empty grant", AuditFilter(grant: ""), 0),
        ("no match", AuditFilter(actor: "nobody"), 0),
    ]

    @Test(
        "filters select exactly the matching entries, indexed or not",
        arguments: ["indexed", "partly indexed", "not indexed"], filters)
    func filtering(log: String, filter: (name: String, filter: AuditFilter, count: Int)) throws {
        let page = try Self.logs[log]!.get().reader().events(filter: filter.filter, limit: 1000)
        let expected = try Self.logs[log]!.get().entries.filter(filter.filter.matches)
        #expect(page.entries.count == filter.count)
        #expect(page.entries == expected)
        #expect(page.nextCursor == nil)
    }

    @Test(
        "pages follow the cursor until the end", arguments: ["indexed", "partly indexed", "not indexed"])
    func paging(log: String) throws {
        let reader = try Self.logs[log]!.get().reader()
        let filter = AuditFilter(actor: "bob")
        let first = try reader.events(filter: filter, limit: 6)
        #expect(first.entries.map(\.seq) == [2, 6, 10, 14, 18, 22])
        #expect(first.nextCursor == 22)
        let second = try reader.events(filter: filter, limit: 6, after: 22)
        #expect(second.entries.map(\.seq) == [26, 30, 34, 38, 42, 46])
        let third = try reader.events(filter: filter, limit: 6, after: 46)
        #expect(third.entries.map(\.seq) == [50, 54, 58])
        #expect(third.nextCursor == nil)
        #expect(try reader.events(filter: filter, limit: 0).entries.count == 1)
    }

    @Test(
        "disclosures list allowed releases of the patient's resources only",
        arguments: ["indexed", "partly indexed", "not indexed"])
    func disclosures(log: String) throws {
        let reader = try Self.logs[log]!.get().reader()
        let page = try reader.disclosures(patient: "p2", limit: 100)
        #expect(page.entries.count == 16)
        #expect(page.entries.allSatisfy { $0.outcome == "allowed" && !$0.resources.isEmpty })
        #expect(page.entries.allSatisfy { $0.patient == "p2" })
        #expect(try reader.disclosures(patient: "p9", limit: 100).entries.isEmpty)
        #expect(try reader.disclosures(patient: "", limit: 100).entries.isEmpty)
        let paged = try reader.disclosures(patient: "p2", limit: 10)
        #expect(paged.entries == Array(page.entries.prefix(10)))
        #expect(paged.nextCursor == page.entries[9].seq)
    }

    @Test("one event by seq, the size and the checkpoints")
    func singleEventAndCheckpoints() throws {
        let reader = try Self.log.get().reader()
        var expected = Samples.entry(2)
        expected.seq = 3
        #expect(try reader.event(seq: 3) == expected)
        #expect(try reader.event(seq: 999) == nil)
        #expect(try reader.size() == 63)
        let checkpoints = try reader.checkpoints()
        #expect(checkpoints.map(\.size) == [25, 50, 63])
        #expect(checkpoints.allSatisfy { $0.origin == "phigate.test/audit" })
        for checkpoint in checkpoints {
            let verified = try Checkpoint.parse(
                signedNote: checkpoint.signedNote, publicKey: Samples.signingKey.publicKey)
            #expect(verified == checkpoint)
        }
    }
}
