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
    /// `indexBatchSize` and `close` decide how much of the log the index covers when the
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

        /// The blocks the index holds, in seq order, each as "first-last min_time-max_time
        /// term term ...", with what the entries of the same seqs say they must be.
        func indexBlocks() throws -> (stored: [String], expected: [String]) {
            let database = try Database(path: path, readOnly: true)
            let blocks = try database.query(
                "SELECT first_seq, last_seq, min_time, max_time FROM audit_blocks ORDER BY first_seq"
            ) { row in (row.int64(at: 0), row.int64(at: 1), row.int64(at: 2), row.int64(at: 3)) }
            var stored: [String] = []
            var expected: [String] = []
            for (first, last, earliest, latest) in blocks {
                let terms = try database.query(
                    "SELECT term FROM audit_terms WHERE block = ? ORDER BY term", [.integer(first)]
                ) { $0.text(at: 0) ?? "" }
                stored.append("\(first)-\(last) \(earliest)-\(latest) " + terms.joined(separator: " "))
                let covered = entries[Int(first - 1)..<Int(last)]
                let times = covered.map(\.time)
                let wanted = Set(covered.flatMap(Term.all(of:))).sorted()
                expected.append(
                    "\(first)-\(last) \(times.min()!)-\(times.max()!) " + wanted.joined(separator: " "))
            }
            return (stored, expected)
        }

        /// The seqs the index covers, in order.
        func indexedSeqs() throws -> [Int64] {
            let database = try Database(path: path, readOnly: true)
            return try database.query("SELECT first_seq, last_seq FROM audit_blocks ORDER BY first_seq") {
                Array($0.int64(at: 0)...$0.int64(at: 1))
            }.flatMap { $0 }
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

    @Test("the index holds each block's fields, up to the last whole batch", arguments: coverage)
    func indexCoverage(log name: String, rows: Int) throws {
        let log = try Self.logs[name]!.get()
        let indexed = try log.indexBlocks()
        #expect(indexed.stored == indexed.expected)
        #expect(try log.indexedSeqs() == (0..<rows).map { Int64($0 + 1) })
    }

    @Test("blocks hold at most a batch; a closing writer indexes the rest as a short block")
    func blockSizes() throws {
        let log = try Log(indexBatchSize: 16, close: true)
        let blocks = try log.indexBlocks().stored.map { $0.prefix { $0 != " " } }
        #expect(blocks == ["1-16", "17-32", "33-48", "49-63"])
        // The first block: four actors, three patients, both outcomes, one event and action.
        #expect(
            try log.indexBlocks().stored.first
                == "1-16 1700000000000-1700000015000 a:alice a:bob a:carol a:dave c:read "
                + "e:fhir.read o:allowed o:denied p:p1 p:p2 p:p3")
    }

    @Test("a writer opened on a log with unindexed entries indexes them first")
    func catchUp() throws {
        let log = try Log(indexBatchSize: 1_000_000, close: false)
        #expect(try log.indexBlocks().stored.isEmpty)
        // A second writer stands for the restart after a crash: the first never closed.
        var configuration = Samples.configuration(log.directory)
        configuration.indexBatchSize = 1_000_000
        let restarted = try AuditWriter(configuration: configuration, signingKey: Samples.signingKey)
        let indexed = try log.indexBlocks()
        #expect(try log.indexedSeqs() == Array(1...63))
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
