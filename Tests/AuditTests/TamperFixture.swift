import Foundation
import Store
import Testing

@testable import Audit

/// A real log written by the writer: 300 entries, checkpoints every 100, closed.
struct PristineLog: Sendable {
    let directory: TemporaryDirectory
    let path: String
    /// The signed notes of the stored checkpoints, by size.
    let notes: [Int64: String]

    static let shared: Result<PristineLog, AuditError> = {
        do {
            return .success(try PristineLog())
        } catch let error as AuditError {
            return .failure(error)
        } catch {
            return .failure(AuditError(.storage, operation: "fixture", message: "\(error)"))
        }
    }()

    private init() throws {
        directory = try TemporaryDirectory()
        directory.removeAtExit()
        path = directory.file("audit.sqlite")
        let writer = try AuditWriter(
            configuration: Samples.configuration(directory, checkpointEvery: 100),
            signingKey: Samples.signingKey)
        let tickets = (0..<300).map { writer.append(Samples.entry($0)) }
        for ticket in tickets {
            _ = try ticket.wait(timeout: .seconds(60)).get()
        }
        try writer.close()
        // Closing the only writer folds SQLite's WAL into the main file and removes it, so
        // the one file is the whole log (a reader opened later may leave an empty WAL).
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let checkpoints = try AuditReader.open(path: path).checkpoints()
        notes = Dictionary(uniqueKeysWithValues: checkpoints.map { ($0.size, $0.signedNote) })
    }
}

/// A copy of the pristine log opened with a raw connection whose triggers were dropped:
/// what an attacker with file access can do.
final class TamperedCopy {
    let directory: TemporaryDirectory
    let path: String
    let raw: Database

    init(_ pristine: PristineLog) throws {
        directory = try TemporaryDirectory()
        path = directory.file("audit.sqlite")
        try FileManager.default.copyItem(atPath: pristine.path, toPath: path)
        raw = try Database(path: path)
        let triggers = try raw.query("SELECT name FROM sqlite_schema WHERE type = 'trigger'") {
            $0.text(at: 0) ?? ""
        }
        #expect(triggers.count == 10)
        for name in triggers {
            try raw.execute("DROP TRIGGER \(name)")
        }
    }

    func entryBytes(_ seq: Int64) throws -> [UInt8] {
        try #require(
            try raw.query("SELECT entry FROM audit_log WHERE seq = ?", [.integer(seq)]) {
                $0.blob(at: 0)
            }.first)
    }

    func storedHash(_ seq: Int64) throws -> [UInt8] {
        try #require(
            try raw.query("SELECT hash FROM audit_log WHERE seq = ?", [.integer(seq)]) {
                $0.blob(at: 0)
            }.first)
    }

    /// Changes the actor of entry `seq`, keeping it canonical; the hash is left alone.
    func editEntry(_ seq: Int64) throws {
        var entry = try AuditCanonicalEncoder.decode(try entryBytes(seq))
        entry.actor = "mallory"
        try raw.run(
            "UPDATE audit_log SET entry = ? WHERE seq = ?",
            [.blob(try AuditCanonicalEncoder.encode(entry)), .integer(seq)])
    }

    /// Recomputes prev_hash and hash of the rows from `first` through `last`.
    func recomputeHashes(from first: Int64, through last: Int64 = .max) throws {
        var previous = first == 1 ? AuditChain.genesis : try storedHash(first - 1)
        let rows = try raw.query(
            "SELECT seq, entry FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq",
            [.integer(first), .integer(last)]
        ) { ($0.int64(at: 0), $0.blob(at: 1)) }
        for (seq, bytes) in rows {
            let hash = AuditChain.hash(previous: previous, entry: bytes)
            try raw.run(
                "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                [.blob(previous), .blob(hash), .integer(seq)])
            previous = hash
        }
    }

    /// Inserts a forged entry at `seq`, correctly linked to its predecessor, moving the
    /// rows from `seq` on up by one.
    func insertForged(at seq: Int64) throws {
        try raw.run("UPDATE audit_log SET seq = -seq WHERE seq >= ?", [.integer(seq)])
        try raw.execute("UPDATE audit_log SET seq = 1 - seq WHERE seq < 0")
        var forged = Samples.entry(999)
        forged.seq = seq
        let bytes = try AuditCanonicalEncoder.encode(forged)
        let previous = try storedHash(seq - 1)
        try raw.run(
            "INSERT INTO audit_log(seq, prev_hash, entry, hash) VALUES (?, ?, ?, ?)",
            [
                .integer(seq), .blob(previous), .blob(bytes),
                .blob(AuditChain.hash(previous: previous, entry: bytes)),
            ])
    }

    /// Deletes the index blocks that reach past `seq`, with their terms, as someone who
    /// deletes the tail of the log and knows the index would give it away does.
    func dropIndex(after seq: Int64) throws {
        try raw.run(
            "DELETE FROM audit_terms WHERE block IN (SELECT first_seq FROM audit_blocks WHERE last_seq > ?)",
            [.integer(seq)])
        try raw.run("DELETE FROM audit_blocks WHERE last_seq > ?", [.integer(seq)])
    }

    /// Deletes every entry after `seq`, with the checkpoints and index blocks that cover them.
    func truncate(after seq: Int64) throws {
        try raw.run("DELETE FROM audit_log WHERE seq > ?", [.integer(seq)])
        try raw.run("DELETE FROM audit_checkpoints WHERE size > ?", [.integer(seq)])
        try dropIndex(after: seq)
    }

    /// Signs and stores a checkpoint of the log's current head at `size`, as the writer does
    /// at its next commit after someone deleted the checkpoints of a rewritten log.
    func signCheckpoint(at size: Int64) throws {
        let checkpoint = try Checkpoint.sign(
            origin: "phigate.test/audit", size: size, headHash: try storedHash(size), signedAt: 1,
            keyName: Samples.signingKey.keyName, key: Samples.signingKey.privateKey)
        try raw.run(
            "INSERT INTO audit_checkpoints(size, head_hash, signed_note, signed_at) VALUES (?, ?, ?, ?)",
            [.integer(size), .blob(checkpoint.headHash), .text(checkpoint.signedNote), .integer(1)])
    }

    /// The index blocks as stored: (first seq, last seq).
    func blocks() throws -> [(Int64, Int64)] {
        try raw.query("SELECT first_seq, last_seq FROM audit_blocks ORDER BY first_seq") {
            ($0.int64(at: 0), $0.int64(at: 1))
        }
    }

    /// Exchanges the rows at `seq` and `seq + 1`.
    func swap(_ seq: Int64) throws {
        try raw.run("UPDATE audit_log SET seq = -1 WHERE seq = ?", [.integer(seq)])
        let sql = "UPDATE audit_log SET seq = ? WHERE seq = ?"
        try raw.run(sql, [.integer(seq), .integer(seq + 1)])
        try raw.run("UPDATE audit_log SET seq = ? WHERE seq = -1", [.integer(seq + 1)])
    }

    /// Verifies the copy as written: checkpoints every 100 entries, unless told otherwise.
    func verify(anchor: String? = nil, key: AuditSigningKey = Samples.signingKey, checkpointEvery: Int64 = 100)
        throws -> VerificationReport
    {
        let database = try Database(path: path, readOnly: true)
        return AuditVerifier.verify(
            database: database, publicKey: key.publicKey, anchor: anchor, checkpointEvery: checkpointEvery)
    }
}
