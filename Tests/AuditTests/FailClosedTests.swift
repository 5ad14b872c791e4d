import Foundation
import Store
import Testing

@testable import Audit

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Audit writer fails closed and recovers")
struct FailClosedTests {
    /// Runs `chattr` on `paths`; true when it succeeded.
    @discardableResult
    static func chattr(_ flag: String, _ paths: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag] + paths
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return false
        }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// True when this process can make a file immutable: root on a file system with the
    /// flag (ext4, xfs, btrfs). Root ignores file modes, so chmod cannot make a file
    /// read-only for it; the immutable flag refuses writes even on descriptors already open.
    static let canMakeImmutable: Bool = {
        guard geteuid() == 0, let directory = try? TemporaryDirectory() else {
            return false
        }
        let probe = directory.file("probe")
        guard FileManager.default.createFile(atPath: probe, contents: Data("x".utf8)) else {
            return false
        }
        defer { chattr("-i", [probe]) }
        return chattr("+i", [probe])
    }()

    @Test("a full database fails the group, turns unhealthy, keeps the chain, then recovers")
    func diskFull() throws {
        let directory = try TemporaryDirectory()
        let health = Recorder<AuditWriter.HealthChange>()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey,
            onHealthChange: { health.record($0) })
        for index in 0..<10 {
            _ = try writer.appendAndWait(Samples.entry(index), timeout: .seconds(5)).get()
        }
        // SQLite's page limit makes it report SQLITE_FULL, as a full disk does.
        try writer.withDatabaseForTesting { database in
            let pages = try #require(try database.scalar("PRAGMA page_count"))
            try database.execute("PRAGMA max_page_count = \(pages)")
        }
        let large = Samples.entry(10, details: ["blob": String(repeating: "x", count: 200_000)])
        let failure = writer.appendAndWait(large, timeout: .seconds(5))
        guard case .failure(let error) = failure else {
            Issue.record("the append should have failed")
            return
        }
        #expect(error.code == .writeFailed)
        #expect(error.storeCode == .diskFull)
        #expect(!writer.isHealthy)
        #expect(writer.statistics.failedGroups == 1)
        #expect(writer.head.seq == 10)

        try writer.withDatabaseForTesting { try $0.execute("PRAGMA max_page_count = 1073741823") }
        #expect(try writer.appendAndWait(large, timeout: .seconds(5)).get() == 11)
        #expect(writer.isHealthy)
        try writer.close()
        #expect(eventually { health.all == [.writeFailed(error), .writable] }, "the change names the failure")
        let report = try WriterTests.verify(directory.file("audit.sqlite"))
        #expect(report.ok, "\(String(describing: report.firstBad))")
        #expect(report.entriesChecked == 11)
    }

    @Test(
        "a read-only file fails appends with a typed error; health returns when it is writable",
        .enabled(if: canMakeImmutable, "needs root and a file system with the immutable flag"))
    func readOnlyFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.sqlite")
        let health = Recorder<AuditWriter.HealthChange>()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory, probe: .milliseconds(100)),
            signingKey: Samples.signingKey, onHealthChange: { health.record($0) })
        for index in 0..<5 {
            _ = try writer.appendAndWait(Samples.entry(index), timeout: .seconds(5)).get()
        }
        let files = [path, path + "-wal"].filter { FileManager.default.fileExists(atPath: $0) }
        #expect(Self.chattr("+i", files))
        defer { Self.chattr("-i", files) }

        let failures = (5..<8).map { writer.appendAndWait(Samples.entry($0), timeout: .seconds(5)) }
        for failure in failures {
            guard case .failure(let error) = failure else {
                Issue.record("an append to an immutable file succeeded")
                continue
            }
            #expect(error.code == .writeFailed)
            #expect(error.storeCode == .ioError || error.storeCode == .readOnly)
        }
        #expect(!writer.isHealthy)
        Thread.sleep(forTimeInterval: 0.4)
        #expect(!writer.isHealthy, "the probe must keep failing while the file is immutable")

        #expect(Self.chattr("-i", files))
        #expect(eventually { writer.isHealthy }, "the probe should see the file writable again")
        #expect(try writer.appendAndWait(Samples.entry(8), timeout: .seconds(5)).get() == 6)
        try writer.close()
        #expect(eventually { health.all.count == 2 })
        guard case .writeFailed(let cause) = health.all.first else {
            Issue.record("the first change should be the failed write, not \(health.all)")
            return
        }
        #expect(cause.code == .writeFailed && [.ioError, .readOnly].contains(cause.storeCode))
        #expect(health.all.last == .writable)
        let report = try WriterTests.verify(path)
        #expect(report.ok, "\(String(describing: report.firstBad))")
        #expect(report.entriesChecked == 6)
    }
}
