import Crypto
import Dispatch
import Foundation
import Store
import Synchronization
import Testing

@testable import Audit

@Suite("Audit writer")
struct WriterTests {
    /// Appends `count` entries from `threads` threads (real threads: `concurrentPerform`
    /// would run only as many at once as there are cores), each waiting for every entry
    /// before the next, as a request handler does.
    static func appendConcurrently(
        _ writer: AuditWriter, count: Int, threads: Int
    ) -> [Result<Int64, AuditError>] {
        let results = Mutex<[Result<Int64, AuditError>]>([])
        let finished = DispatchGroup()
        for thread in 0..<threads {
            finished.enter()
            Thread {
                var index = thread
                while index < count {
                    let outcome = writer.appendAndWait(Samples.entry(index), timeout: .seconds(30))
                    results.withLock { $0.append(outcome) }
                    index += threads
                }
                finished.leave()
            }.start()
        }
        finished.wait()
        return results.withLock { $0 }
    }

    /// Verifies the log at `path`, written with checkpoints every `checkpointEvery` entries.
    static func verify(_ path: String, anchor: String? = nil, checkpointEvery: Int64 = 1000) throws
        -> VerificationReport
    {
        let database = try Database(path: path, readOnly: true)
        return AuditVerifier.verify(
            database: database, publicKey: Samples.signingKey.publicKey, anchor: anchor,
            checkpointEvery: checkpointEvery)
    }

    @Test("2,000 entries from 8 threads are all durable, contiguous and grouped")
    func groupCommit() throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        let results = Self.appendConcurrently(writer, count: 2000, threads: 8)
        let seqs = try results.map { try $0.get() }.sorted()
        #expect(seqs == Array(1...2000))
        let statistics = writer.statistics
        #expect(statistics.entriesAppended == 2000)
        #expect(statistics.groupsCommitted < 2000)
        #expect(statistics.largestGroup > 1)
        #expect(statistics.failedGroups == 0)
        try writer.close()
        let report = try Self.verify(directory.file("audit.sqlite"))
        #expect(report.ok, "\(String(describing: report.firstBad))")
        #expect(report.entriesChecked == 2000)
        #expect(report.latestCheckpointSize == 2000)
    }

    @Test("a group size of one commits every entry on its own")
    func ungrouped() throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory, maxGroupSize: 1),
            signingKey: Samples.signingKey)
        let results = Self.appendConcurrently(writer, count: 200, threads: 4)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(writer.statistics.groupsCommitted == 200)
        #expect(writer.statistics.largestGroup == 1)
        try writer.close()
    }

    @Test(
        "checkpoints fall at every N entries exactly, and close signs the rest",
        arguments: [(300, [Int64(100), 200, 300]), (250, [100, 200, 250]), (99, [99])])
    func checkpointsEveryN(count: Int, sizes: [Int64]) throws {
        let directory = try TemporaryDirectory()
        let recorder = Recorder<Checkpoint>()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory, checkpointEvery: 100),
            signingKey: Samples.signingKey, onCheckpoint: { recorder.record($0) })
        let tickets = (0..<count).map { writer.append(Samples.entry($0)) }
        #expect(tickets.allSatisfy { (try? $0.wait(timeout: .seconds(30)).get()) != nil })
        try writer.close()
        #expect(recorder.all.map(\.size) == sizes)
        for checkpoint in recorder.all {
            let parsed = try Checkpoint.parse(
                signedNote: checkpoint.signedNote, publicKey: Samples.signingKey.publicKey)
            #expect(parsed == checkpoint)
            #expect(parsed.origin == "phigate.test/audit")
        }
        let reader = try AuditReader.open(path: directory.file("audit.sqlite"))
        #expect(try reader.checkpoints().map(\.size) == sizes)
        let report = try Self.verify(directory.file("audit.sqlite"), checkpointEvery: 100)
        #expect(report.ok, "\(String(describing: report.firstBad))")
        #expect(report.checkpointsChecked == sizes.count)
    }

    @Test("a checkpoint is signed after the interval when the head moved, not before")
    func checkpointByTime() throws {
        let directory = try TemporaryDirectory()
        let recorder = Recorder<Checkpoint>()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory, checkpointInterval: .milliseconds(300)),
            signingKey: Samples.signingKey, onCheckpoint: { recorder.record($0) })
        for index in 0..<5 {
            _ = try writer.appendAndWait(Samples.entry(index), timeout: .seconds(10)).get()
        }
        #expect(eventually { recorder.all.count == 1 })
        #expect(recorder.all.first?.size == 5)
        Thread.sleep(forTimeInterval: 0.8)
        #expect(recorder.all.count == 1, "the head did not move, so no new checkpoint")
        try writer.close()
        #expect(recorder.all.count == 1, "close adds nothing when the head is signed")
    }

    @Test("a full queue refuses at once, says so once, and says when it has room again")
    func queueFull() throws {
        let directory = try TemporaryDirectory()
        let health = Recorder<AuditWriter.HealthChange>()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory, maxGroupSize: 2, queueCapacity: 4),
            signingKey: Samples.signingKey, onHealthChange: { health.record($0) })
        writer.suspendForTesting()
        let accepted = (0..<4).map { writer.append(Samples.entry($0)) }
        let refused = (4..<6).map { writer.append(Samples.entry($0)) }
        #expect(refused.map { $0.wait(timeout: .milliseconds(1)).failureCode } == [.queueFull, .queueFull])
        #expect(writer.statistics.queueDepth == 4)
        #expect(!writer.isAccepting)
        #expect(eventually { health.all == [.queueFull] }, "two refusals, one report")
        writer.resumeForTesting()
        let seqs = try accepted.map { try $0.wait(timeout: .seconds(10)).get() }
        #expect(seqs == [1, 2, 3, 4])
        #expect(writer.statistics.rejectedEntries == 2)
        #expect(writer.isAccepting)
        #expect(eventually { health.all == [.queueFull, .accepting] })
        #expect(writer.isHealthy, "a full queue is not a failed write")
        try writer.close()
    }

    @Test("entries waiting past the stall threshold are reported once, and the next commit says so")
    func stall() throws {
        let directory = try TemporaryDirectory()
        var configuration = Samples.configuration(directory)
        configuration.stallThreshold = .milliseconds(100)
        let health = Recorder<AuditWriter.HealthChange>()
        let writer = try AuditWriter(
            configuration: configuration, signingKey: Samples.signingKey, onHealthChange: { health.record($0) })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(health.all.isEmpty, "an idle writer is not stalled, however long since its last commit")
        writer.suspendForTesting()
        let tickets = (0..<3).map { writer.append(Samples.entry($0)) }
        #expect(eventually { health.all == [.stalled] })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(health.all == [.stalled], "reported once while it lasts")
        writer.resumeForTesting()
        #expect(try tickets.map { try $0.wait(timeout: .seconds(10)).get() } == [1, 2, 3])
        #expect(eventually { health.all == [.stalled, .moving] })
        #expect(writer.isHealthy, "a stall that ends in a commit is not a failed write")
        try writer.close()
    }

    @Test("a ticket wakes every waiter and callback once, and a waiter may time out first")
    func ticketWaiters() throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        writer.suspendForTesting()
        let ticket = writer.append(Samples.entry(0))
        #expect(ticket.wait(timeout: .milliseconds(20)).failureCode == .timeout)
        let callbacks = Recorder<Int64>()
        ticket.onCompletion { callbacks.record($0.seqOrMinusOne) }
        let waiters = Recorder<Int64>()
        let group = DispatchGroup()
        for _ in 0..<3 {
            DispatchQueue.global().async(group: group) {
                waiters.record(ticket.wait(timeout: .seconds(10)).seqOrMinusOne)
            }
        }
        Thread.sleep(forTimeInterval: 0.05)
        #expect(waiters.all.isEmpty && callbacks.all.isEmpty, "nothing completes while held")
        writer.resumeForTesting()
        #expect(group.wait(timeout: .now() + 10) == .success)
        #expect(waiters.all == [1, 1, 1])
        // The writer wakes the waiters before it runs the callbacks, so a waiter may be back first.
        #expect(eventually { callbacks.all == [1] })
        ticket.onCompletion { callbacks.record($0.seqOrMinusOne) }
        #expect(callbacks.all == [1, 1], "a late callback runs at once with the outcome")
        #expect(try ticket.wait(timeout: .zero).get() == 1)
        try writer.close()
    }

    @Test("after close, appends fail with .closed")
    func closedWriter() throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        try writer.close()
        #expect(writer.append(Samples.entry(0)).wait(timeout: .seconds(1)).failureCode == .closed)
        try writer.close()
    }

    @Test("an entry whose time cannot be encoded exactly is refused before queueing")
    func invalidEntry() throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        var entry = Samples.entry(0)
        entry.time = .max
        #expect(writer.appendAndWait(entry, timeout: .seconds(1)).failureCode == .invalidEntry)
        #expect(try writer.appendAndWait(Samples.entry(1), timeout: .seconds(5)).get() == 1)
        try writer.close()
    }

    @Test("a reopened log continues the chain")
    func reopen() throws {
        let directory = try TemporaryDirectory()
        let configuration = Samples.configuration(directory, checkpointEvery: 4)
        for round in 0..<3 {
            let writer = try AuditWriter(
                configuration: configuration, signingKey: Samples.signingKey)
            for index in 0..<5 {
                let seq = try writer.appendAndWait(Samples.entry(index), timeout: .seconds(5)).get()
                #expect(seq == Int64(round * 5 + index + 1))
            }
            try writer.close()
        }
        let report = try Self.verify(directory.file("audit.sqlite"), checkpointEvery: 4)
        #expect(report.ok, "\(String(describing: report.firstBad))")
        #expect(report.entriesChecked == 15)
        #expect(report.latestCheckpointSize == 15)
    }

    /// Statements that change stored evidence, each refused by a trigger.
    static let forbiddenStatements = [
        "UPDATE audit_log SET entry = x'00' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 3",
        "UPDATE audit_checkpoints SET signed_at = 0",
        "DELETE FROM audit_checkpoints",
        "UPDATE audit_blocks SET max_time = 0",
        "DELETE FROM audit_blocks",
        "UPDATE audit_terms SET term = 'a:x'",
        "DELETE FROM audit_terms WHERE term = 'a:alice'",
        """
        INSERT OR REPLACE INTO audit_log(seq, prev_hash, entry, hash)
        SELECT seq, prev_hash, x'00', hash FROM audit_log WHERE seq = 2
        """,
        """
        INSERT INTO audit_log(seq, prev_hash, entry, hash)
        VALUES (10, zeroblob(32), x'00', zeroblob(32))
        """,
        """
        INSERT INTO audit_checkpoints(size, head_hash, signed_note, signed_at)
        VALUES (3, zeroblob(32), 'x', 0)
        """,
    ]

    @Test(
        "triggers refuse changes to the evidence on any connection",
        arguments: forbiddenStatements)
    func triggers(sql: String) throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory, checkpointEvery: 2),
            signingKey: Samples.signingKey)
        for index in 0..<5 {
            _ = try writer.appendAndWait(Samples.entry(index), timeout: .seconds(5)).get()
        }
        try writer.close()
        let raw = try Database(path: directory.file("audit.sqlite"))
        let error = #expect(throws: StoreError.self) { try raw.execute(sql) }
        #expect(error?.code == .constraint)
        #expect(try raw.scalar("SELECT count(*) FROM audit_log") == 5)
        let report = try Self.verify(directory.file("audit.sqlite"), checkpointEvery: 2)
        #expect(report.ok)
    }

    @Test(
        "the writer's own connection is not even allowed to compile a change",
        arguments: [
            "UPDATE audit_log SET entry = x'00'", "DELETE FROM audit_checkpoints",
            "DROP TRIGGER audit_log_no_update",
        ])
    func authorizer(sql: String) throws {
        let directory = try TemporaryDirectory()
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory), signingKey: Samples.signingKey)
        _ = try writer.appendAndWait(Samples.entry(0), timeout: .seconds(5)).get()
        let error = #expect(throws: StoreError.self) {
            try writer.withDatabaseForTesting { try $0.run(sql) }
        }
        #expect(error?.code == .notAuthorized)
        try writer.close()
    }
}

extension Result where Failure == AuditError {
    /// The error code of a failure, nil for a success.
    var failureCode: AuditError.Code? {
        guard case .failure(let error) = self else {
            return nil
        }
        return error.code
    }
}

extension Result where Success == Int64, Failure == AuditError {
    /// The seq of a success, -1 for a failure: what the ticket tests record.
    var seqOrMinusOne: Int64 {
        guard case .success(let seq) = self else {
            return -1
        }
        return seq
    }
}
