import Foundation
import Store
import Support
import Testing

@testable import Audit

@Suite("Audit WAL checkpoints off the writer's thread")
struct WALCheckpointerTests {
    static func logFile(_ directory: TemporaryDirectory) throws -> AuditLogFile {
        try AuditLogFile(
            path: directory.file("audit.sqlite"), signingKey: Samples.signingKey,
            origin: "phigate.test/audit", checkpointEvery: 1000, indexBatchSize: 256,
            clock: WallClock())
    }

    static func autocheckpoint(_ file: AuditLogFile) throws -> Int64? {
        try file.withDatabase { try $0.scalar("PRAGMA wal_autocheckpoint") }
    }

    static func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    @Test("the writer's commits leave the WAL to the checkpointer, which copies it back")
    func background() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.logFile(directory)
        #expect(try Self.autocheckpoint(file) == 0)
        let before = try Self.fileSize(directory.file("audit.sqlite"))
        for group in 0..<5 {
            _ = try file.commit((group * 500..<(group + 1) * 500).map { Samples.entry($0) })
        }
        #expect(eventually { file.walCheckpointer.completed >= 1 })
        let after = try Self.fileSize(directory.file("audit.sqlite"))
        #expect(after > before + 500_000, "the pages of 2,000 entries reached the main file")
        #expect(try Self.autocheckpoint(file) == 0, "still the checkpointer's job")
        file.close()
        let report = try WriterTests.verify(directory.file("audit.sqlite"))
        #expect(report.ok)
        #expect(report.entriesChecked == 2500)
    }

    @Test("the WAL restarts after background checkpoints that raced the writer")
    func boundedLog() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.logFile(directory)
        let wal = directory.file("audit.sqlite-wal")
        // Small groups back to back, as under load: each background checkpoint runs while
        // commits keep appending, so it can never copy the whole log by itself.
        var sizes: [Int] = []
        for group in 0..<800 {
            _ = try file.commit((group * 20..<(group + 1) * 20).map { Samples.entry($0) })
            if group % 100 == 99 {
                sizes.append(try Self.fileSize(wal))
            }
        }
        #expect(file.walCheckpointer.completed >= 4)
        // 2,000 entries are a few MB of log; a log that never restarted would hold all 16,000.
        let largest = sizes.max() ?? 0
        #expect(largest < sizes[0] * 3, "WAL sizes \(sizes)")
        file.close()
        #expect(try WriterTests.verify(directory.file("audit.sqlite")).entriesChecked == 16_000)
    }

    @Test("once the checkpointer fails, SQLite's own checkpoint takes over")
    func fallback() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.logFile(directory)
        file.walCheckpointer.failForTesting()
        _ = try file.commit((0..<1999).map { Samples.entry($0) })
        #expect(try Self.autocheckpoint(file) == 0, "no request yet below 2,000 entries")
        _ = try file.commit([Samples.entry(1999)])
        #expect(try Self.autocheckpoint(file) == 1000)
        #expect(file.walCheckpointer.completed == 0)
        file.close()
    }

    @Test("a checkpointer that cannot open the database reports failing")
    func cannotOpen() throws {
        let checkpointer = WALCheckpointer(path: "/nonexistent-directory/audit.sqlite")
        #expect(!checkpointer.isFailing)
        checkpointer.request()
        #expect(eventually { checkpointer.isFailing })
        #expect(checkpointer.completed == 0)
        checkpointer.close()
    }
}
