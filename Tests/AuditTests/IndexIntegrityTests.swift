import Store
import Testing

@testable import Audit

/// The query index is derived data that queries rely on: readers must not let block rows out of
/// place hide entries, the verifier must find any difference from the entries, and the writer
/// must notice a broken index when it opens the log and be able to rebuild it.
@Suite("Audit index integrity")
struct IndexIntegrityTests {
    typealias Kind = AuditIndexFault.Kind

    // MARK: - Tiling (pure)

    /// (blocks as first...last, head, largest block, covered seq, fault kind and block)
    static let tilings: [([ClosedRange<Int64>], Int64, Int64, Int64, (Kind, Int64)?)] = [
        ([], 10, 256, 0, nil),
        ([1...4, 5...8], 10, 256, 8, nil),
        ([1...4, 5...8], 7, 256, 4, (.pastHead, 5)),
        ([2...4], 10, 256, 0, (.gap, 2)),
        ([1...4, 6...8], 10, 256, 4, (.gap, 6)),
        // Either block of an overlap may be the forged one; neither is trusted.
        ([1...4, 5...12, 9...12], 20, 256, 4, (.overlap, 5)),
        ([1...4, 3...3], 20, 256, 0, (.overlap, 1)),
        ([0...4], 20, 256, 0, (.overlap, 0)),
        ([1...4, 5...12], 20, 4, 4, (.oversized, 5)),
        ([1...4, 5...8, 9...1_000_000_000], 10, 256, 8, (.pastHead, 9)),
    ]

    @Test("blocks are trusted while they tile the log from entry 1", arguments: tilings)
    func tiling(blocks: [ClosedRange<Int64>], head: Int64, size: Int64, covered: Int64, fault: (Kind, Int64)?) {
        var tiling = BlockTiling(head: head, maximumSize: size)
        for block in blocks {
            _ = tiling.add(first: block.lowerBound, last: block.upperBound)
        }
        #expect(tiling.coveredSeq == covered)
        #expect(tiling.fault?.kind == fault?.0)
        #expect(tiling.fault?.block == fault?.1)
    }

    @Test("a block that ends before it starts is out of place")
    func reversed() {
        var tiling = BlockTiling(head: 20)
        let accepted = [(1, 4), (5, 3), (5, 8)].map { tiling.add(first: $0.0, last: $0.1) }
        #expect(accepted == [true, false, false], "nothing after a fault is trusted")
        #expect(tiling.fault?.kind == .reversed)
        #expect(tiling.coveredSeq == 4)
    }

    // MARK: - Comparison with the entries (pure)

    /// Twenty sample entries numbered 1...20.
    static let entries: [AuditEntry] = (0..<20).map { index in
        var entry = Samples.entry(index)
        entry.seq = Int64(index + 1)
        return entry
    }

    /// The index the writer stores for `entries` in blocks of four.
    static func honestIndex() -> ([IndexCheck.StoredBlock], [(block: Int64, term: String)]) {
        var blocks: [IndexCheck.StoredBlock] = []
        var terms: [(block: Int64, term: String)] = []
        for start in stride(from: 0, to: entries.count, by: 4) {
            let summary = BlockSummary(entries[start..<start + 4].map(AuditIndex.Row.init))!
            blocks.append(
                .init(
                    firstSeq: summary.firstSeq, lastSeq: summary.lastSeq, minTime: summary.minTime,
                    maxTime: summary.maxTime))
            terms += summary.terms.sorted().map { (summary.firstSeq, $0) }
        }
        return (blocks, terms)
    }

    /// Ways the stored index may differ from the entries, with the fault expected.
    enum Difference: String, CaseIterable, CustomTestStringConvertible {
        case none, termRemoved, termAdded, timeChanged, orphanBetween, orphanAfter, undecodableEntry, unreadable

        var testDescription: String { rawValue }

        var expected: (Kind, Int64)? {
            switch self {
            case .none, .undecodableEntry: nil
            case .termRemoved, .termAdded: (.terms, 9)
            case .timeChanged: (.times, 13)
            case .orphanBetween: (.orphanTerms, 7)
            case .orphanAfter: (.orphanTerms, 21)
            case .unreadable: (.unreadable, 1)
            }
        }
    }

    @Test(
        "the comparison finds the first block whose stored rows differ from its entries",
        arguments: Difference.allCases)
    func comparison(difference: Difference) {
        var (blocks, terms) = Self.honestIndex()
        switch difference {
        case .none, .undecodableEntry, .unreadable:
            break
        case .termRemoved:
            terms.removeAll { $0.block == 9 && $0.term == "p:p2" }
        case .termAdded:
            terms.append((9, "a:mallory"))
        case .timeChanged:
            let block = blocks[3]
            blocks[3] = .init(
                firstSeq: block.firstSeq, lastSeq: block.lastSeq, minTime: block.minTime + 1, maxTime: block.maxTime)
        case .orphanBetween:
            terms.append((7, "a:alice"))
        case .orphanAfter:
            terms.append((21, "a:alice"))
        }
        terms.sort { ($0.block, $0.term) < ($1.block, $1.term) }
        var tiling = BlockTiling(head: 20, maximumSize: 4)
        let accepted = blocks.map { tiling.add(first: $0.firstSeq, last: $0.lastSeq) }
        #expect(!accepted.contains(false))
        var remaining = terms[...]
        let check = IndexCheck(blocks: blocks, tiling: tiling) {
            if difference == .unreadable {
                throw StoreError(.ioError, operation: "step", message: "disk I/O error")
            }
            return remaining.popFirst()
        }
        for entry in Self.entries {
            check.add(seq: entry.seq, entry: difference == .undecodableEntry && entry.seq == 10 ? nil : entry)
        }
        check.finish()
        #expect(check.fault?.kind == difference.expected?.0, "\(String(describing: check.fault))")
        #expect(check.fault?.block == difference.expected?.1)
        if difference == .none || difference == .undecodableEntry {
            #expect(check.blocksChecked == 5)
        }
    }

    // MARK: - Readers, the writer and verification on a real log

    /// Edits of the block rows by someone with the file, each of which hid entries from
    /// filtered queries before readers checked the tiling.
    enum BlockEdit: String, CaseIterable, CustomTestStringConvertible {
        /// The repro of the report: a block from just after the index to far beyond the head.
        case blockPastTheHead
        case blockDeleted
        case blockWidenedOverItsNeighbour

        var testDescription: String { rawValue }

        /// Applied to a log of 20 entries indexed in blocks of four.
        func apply(to raw: Database) throws {
            switch self {
            case .blockPastTheHead:
                try raw.execute(
                    "INSERT INTO audit_blocks VALUES ((SELECT max(last_seq) + 1 FROM audit_blocks), 1000000000, 0, 0)")
            case .blockDeleted:
                try raw.execute("DELETE FROM audit_terms WHERE block = 5")
                try raw.execute("DELETE FROM audit_blocks WHERE first_seq = 5")
            case .blockWidenedOverItsNeighbour:
                try raw.execute("DELETE FROM audit_terms WHERE block = 5")
                try raw.execute("UPDATE audit_blocks SET last_seq = 12 WHERE first_seq = 5")
            }
        }

        var fault: (Kind, Int64) {
            switch self {
            case .blockPastTheHead: (.pastHead, 21)
            case .blockDeleted: (.gap, 9)
            case .blockWidenedOverItsNeighbour: (.overlap, 5)
            }
        }
    }

    static let filters = [
        AuditFilter(actor: "bob"), AuditFilter(patient: "p2"), AuditFilter(outcome: "denied"),
        AuditFilter(actor: "alice", outcome: "allowed"),
        AuditFilter(since: 1_700_000_005_000, until: 1_700_000_025_000),
    ]

    static func configuration(_ directory: TemporaryDirectory) -> AuditWriterConfiguration {
        var configuration = Samples.configuration(directory)
        configuration.indexBatchSize = 4
        return configuration
    }

    @Test("edited block rows neither hide entries nor survive the writer's next start", arguments: BlockEdit.allCases)
    func editedBlocks(edit: BlockEdit) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.sqlite")
        let first = try AuditWriter(configuration: Self.configuration(directory), signingKey: Samples.signingKey)
        for index in 0..<20 {
            _ = try first.appendAndWait(Samples.entry(index), timeout: .seconds(10)).get()
        }
        try first.close()
        do {
            let raw = try Database(path: path)
            for trigger in ["audit_blocks_no_update", "audit_blocks_no_delete", "audit_terms_no_delete"] {
                try raw.execute("DROP TRIGGER \(trigger)")
            }
            try edit.apply(to: raw)
        }
        // The gateway starts again and serves ten more requests before anyone looks.
        let writer = try AuditWriter(configuration: Self.configuration(directory), signingKey: Samples.signingKey)
        #expect(writer.indexFaultAtOpen?.kind == edit.fault.0)
        #expect(writer.indexFaultAtOpen?.block == edit.fault.1)
        for index in 20..<30 {
            _ = try writer.appendAndWait(Samples.entry(index), timeout: .seconds(10)).get()
        }
        let stored = try Database(path: path, readOnly: true).query("SELECT entry FROM audit_log ORDER BY seq") {
            try AuditCanonicalEncoder.decode($0.blob(at: 0))
        }
        #expect(stored.count == 30)
        let reader = try AuditReader.open(path: path)
        for filter in Self.filters {
            let found = try reader.events(filter: filter, limit: 1000).entries.map(\.seq)
            #expect(found == stored.filter(filter.matches).map(\.seq), "\(filter)")
            var paged: [Int64] = []
            var cursor: Int64 = 0
            repeat {
                let page = try reader.events(filter: filter, limit: 3, after: cursor)
                paged += page.entries.map(\.seq)
                cursor = page.nextCursor ?? 0
            } while cursor > 0
            #expect(paged == found, "\(filter), in pages")
        }
        let disclosed = try reader.disclosures(patient: "p2", limit: 1000).entries.map(\.seq)
        #expect(disclosed == stored.filter { $0.outcome == "allowed" && !$0.resources(of: "p2").isEmpty }.map(\.seq))
        let before = try WriterTests.verify(path)
        #expect(before.firstBad?.reason == .indexMismatch, "\(String(describing: before.firstBad))")

        try writer.rebuildIndex()
        let after = try WriterTests.verify(path)
        #expect(after.ok, "\(String(describing: after.firstBad))")
        #expect(after.indexBlocksChecked == 8)
        for filter in Self.filters {
            let found = try reader.events(filter: filter, limit: 1000).entries.map(\.seq)
            #expect(found == stored.filter(filter.matches).map(\.seq), "\(filter), rebuilt")
        }
        let refused = #expect(throws: StoreError.self) {
            try writer.withDatabaseForTesting { try $0.run("DELETE FROM audit_terms") }
        }
        #expect(refused?.code == .notAuthorized, "the rebuilt index tables are guarded again")
        try writer.close()
        let reopened = try AuditWriter(configuration: Self.configuration(directory), signingKey: Samples.signingKey)
        #expect(reopened.indexFaultAtOpen == nil)
        try reopened.close()
    }

    @Test("a rebuilt index has the tables and triggers a fresh log has")
    func rebuiltSchema() throws {
        func indexSchema(_ database: Database) throws -> [String] {
            try database.query(
                "SELECT sql FROM sqlite_schema WHERE tbl_name IN ('audit_blocks', 'audit_terms') ORDER BY name"
            ) { $0.text(at: 0) ?? "" }
        }
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(configuration: Self.configuration(directory), signingKey: Samples.signingKey)
        let fresh = try writer.withDatabaseForTesting(indexSchema)
        #expect(fresh.count >= 6, "two tables and four triggers")
        for index in 0..<6 {
            _ = try writer.appendAndWait(Samples.entry(index), timeout: .seconds(10)).get()
        }
        try writer.rebuildIndex()
        #expect(try writer.withDatabaseForTesting(indexSchema) == fresh)
        try writer.close()
        #expect(try WriterTests.verify(directory.file("audit.sqlite")).indexBlocksChecked == 2)
    }
}
