import Store
import Support
import Testing

@testable import Audit

@Suite("Audit index batches")
struct IndexTests {
    /// A log file whose index batch is `batch` entries (slices of four batches).
    static func logFile(_ directory: TemporaryDirectory, batch: Int) throws -> AuditLogFile {
        try AuditLogFile(
            path: directory.file("audit.sqlite"), signingKey: Samples.signingKey,
            origin: "phigate.test/audit", checkpointEvery: 1000, indexBatchSize: batch,
            clock: WallClock())
    }

    static func indexedSeqs(_ file: AuditLogFile) throws -> [Int64] {
        try file.withDatabase { database in
            try database.query("SELECT first_seq, last_seq FROM audit_blocks ORDER BY first_seq") {
                Array($0.int64(at: 0)...$0.int64(at: 1))
            }.flatMap { $0 }
        }
    }

    /// (entries per commit, index batch, indexed seq after each commit)
    static let schedules: [([Int], Int, [Int64])] = [
        // Below a batch nothing is indexed; the commit that reaches one indexes all of it.
        ([1, 1, 1, 1, 1], 4, [0, 0, 0, 4, 4]),
        ([3, 3, 3], 4, [0, 6, 6]),
        // A group larger than a slice (16) indexes one slice; later commits take the rest.
        ([40, 1, 1, 1], 4, [16, 32, 42, 42]),
        ([10], 1, [4]),
    ]

    @Test("group commits index whole batches, one slice at a time", arguments: schedules)
    func batches(groups: [Int], batch: Int, expected: [Int64]) throws {
        let directory = try TemporaryDirectory()
        let file = try Self.logFile(directory, batch: batch)
        var next = 0
        var seen: [Int64] = []
        for size in groups {
            _ = try file.commit((next..<next + size).map { Samples.entry($0) })
            next += size
            seen.append(file.indexedSeq)
        }
        #expect(seen == expected)
        let last = expected.last ?? 0
        #expect(try Self.indexedSeqs(file) == (last == 0 ? [] : Array(1...last)))
    }

    @Test("opening indexes everything; the timer indexes one slice of what waits")
    func tailSlices() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.logFile(directory, batch: 1_000)
        _ = try file.commit((0..<30).map { Samples.entry($0) })
        #expect(file.indexedSeq == 0)
        file.close()
        // Reopened with batches of two, so slices of eight.
        let reopened = try Self.logFile(directory, batch: 2)
        #expect(reopened.indexedSeq == 30, "opening a log indexes everything first")
        _ = try reopened.commit((30..<31).map { Samples.entry($0) })
        #expect(reopened.indexedSeq == 30, "one entry is below a batch of two")
        _ = try reopened.commit((31..<50).map { Samples.entry($0) })
        #expect(reopened.indexedSeq == 38, "a commit indexes one slice of the 20 waiting")
        var ticks: [Int64] = []
        for _ in 0..<3 {
            try reopened.indexTail()
            ticks.append(reopened.indexedSeq)
        }
        #expect(ticks == [46, 50, 50])
        #expect(try Self.indexedSeqs(reopened) == Array(1...50))
    }

    @Test("after the rows in memory are lost, the tail is read back from the log in slices")
    func decodedSlices() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.logFile(directory, batch: 1_000)
        let entries = (0..<40).map { Samples.entry($0) }
        _ = try file.commit(entries)
        try file.withDatabase { database in
            var index = AuditIndex(batchSize: 4)
            try index.reload(database)
            #expect(index.indexedSeq == 0)
            for expected in [16, 32, 40] as [Int64] {
                let done = try database.transaction {
                    try index.write(upTo: 40, atMost: index.sliceSize, database)
                }
                index.committed(upTo: done)
                #expect(index.indexedSeq == expected)
            }
            let actors = try database.query(
                "SELECT term FROM audit_terms WHERE term LIKE 'a:%' ORDER BY block, term"
            ) { $0.text(at: 0) ?? "" }
            // Blocks of four entries; the sample actors take turns in fours.
            #expect(actors == Array(repeating: ["a:alice", "a:bob", "a:carol", "a:dave"], count: 10).flatMap { $0 })
        }
    }
}
