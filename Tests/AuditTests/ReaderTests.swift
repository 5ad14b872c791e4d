import Foundation
import Store
import Testing

@testable import Audit

@Suite("Audit reader")
struct ReaderTests {
    static let base: Int64 = 1_700_000_000_000

    /// Sixty access entries (see `Samples.entry`) and three break-glass entries, written by
    /// the writer with checkpoints every 25.
    final class Log: Sendable {
        let directory: TemporaryDirectory
        let path: String

        init() throws {
            directory = try TemporaryDirectory()
            directory.removeAtExit()
            path = directory.file("audit.sqlite")
            let writer = try AuditWriter(
                configuration: Samples.configuration(directory, checkpointEvery: 25),
                signingKey: Samples.signingKey)
            var entries = (0..<60).map { Samples.entry($0) }
            for (offset, grant) in ["g-1", "g-1", "g-2"].enumerated() {
                entries.append(
                    AuditEntry(
                        time: base + 100_000 + Int64(offset), event: "break_glass.activate",
                        actor: "erin", roles: ["clinician"], action: "activate",
                        outcome: "allowed", status: 201, patient: "p9", grant: grant,
                        reason: "emergency", justification: "unconscious patient"))
            }
            for entry in entries {
                _ = try writer.appendAndWait(entry, timeout: .seconds(10)).get()
            }
            try writer.close()
        }

        func reader() throws -> AuditReader {
            try AuditReader.open(path: path)
        }
    }

    static let log: Result<Log, AuditError> = {
        do {
            return .success(try Log())
        } catch let error as AuditError {
            return .failure(error)
        } catch {
            return .failure(AuditError(.storage, operation: "fixture", message: "\(error)"))
        }
    }()

    static let filters: [(String, AuditFilter, Int)] = [
        ("everything", AuditFilter(), 63),
        ("one actor", AuditFilter(actor: "alice"), 15),
        ("patient and outcome", AuditFilter(patient: "p1", outcome: "denied"), 4),
        ("a time window", AuditFilter(since: base + 10_000, until: base + 20_000), 10),
        ("an event", AuditFilter(event: "break_glass.activate"), 3),
        ("an action", AuditFilter(action: "read"), 60),
        ("a grant", AuditFilter(grant: "g-1"), 2),
        ("no match", AuditFilter(actor: "nobody"), 0),
    ]

    @Test("filters select exactly the matching entries", arguments: filters)
    func filtering(name: String, filter: AuditFilter, count: Int) throws {
        let page = try Self.log.get().reader().events(filter: filter, limit: 1000)
        #expect(page.entries.count == count)
        #expect(page.nextCursor == nil)
        #expect(page.entries.map(\.seq) == page.entries.map(\.seq).sorted())
    }

    @Test("pages follow the cursor until the end")
    func paging() throws {
        let reader = try Self.log.get().reader()
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

    @Test("disclosures list allowed releases of the patient's resources only")
    func disclosures() throws {
        let page = try Self.log.get().reader().disclosures(patient: "p2", limit: 100)
        #expect(page.entries.count == 16)
        #expect(page.entries.allSatisfy { $0.outcome == "allowed" && !$0.resources.isEmpty })
        #expect(page.entries.allSatisfy { $0.patient == "p2" })
        #expect(try Self.log.get().reader().disclosures(patient: "p9", limit: 100).entries.isEmpty)
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
