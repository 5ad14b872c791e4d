import Store
import Testing

@testable import Audit

/// The promise of Docs/AUDIT.md that an entry is on disk before the response leaves rests on
/// two settings of the writer's connection; a change to either must fail here, not in a crash.
@Suite("Audit database durability settings")
struct DurabilityTests {
    @Test("the writer's connection journals in WAL mode with synchronous=FULL")
    func walAndFullSync() throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        _ = try writer.appendAndWait(Samples.entry(1), timeout: .seconds(5)).get()
        let (mode, synchronous) = try writer.withDatabaseForTesting { database in
            let mode = try database.query("PRAGMA journal_mode") { $0.text(at: 0) }.first ?? nil
            return (mode, try database.scalar("PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
        #expect(synchronous == 2)
        try writer.close()
    }

    @Test("WAL mode is stored in the file, so a later reader finds it too")
    func walPersists() throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        _ = try writer.appendAndWait(Samples.entry(1), timeout: .seconds(5)).get()
        try writer.close()
        let reader = try Database(path: directory.file("audit.sqlite"), readOnly: true)
        let mode = try reader.query("PRAGMA journal_mode") { $0.text(at: 0) }.first ?? nil
        #expect(mode == "wal")
    }
}
