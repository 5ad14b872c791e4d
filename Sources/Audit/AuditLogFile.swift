import Store
import Support

/// The writer's side of the audit database: the one writable connection, the chain head and
/// the checkpoint schedule.
///
/// Confined to the ``AuditWriter``'s serial queue; nothing here locks. The in-memory head
/// advances only after a COMMIT succeeds. After any failure the head is marked stale and
/// re-read from the file before the next write, because a commit that reported an error may
/// still have reached the disk, and the next entry must link to whatever the file holds.
final class AuditLogFile {
    /// The outcome of one committed group.
    struct Commit {
        /// The seq of the group's first entry; the others follow in order.
        let firstSeq: Int64
        /// Checkpoints signed inside the same transaction.
        let checkpoints: [Checkpoint]
    }

    private var database: Database?
    private let signingKey: AuditSigningKey
    private let origin: String
    private let checkpointEvery: Int64
    private let clock: WallClock

    private(set) var headSeq: Int64 = 0
    private var headHash = AuditChain.genesis
    private(set) var checkpointSize: Int64 = 0
    private var headIsStale = true
    private var index: AuditIndex
    /// Copies the WAL into the database file off the writer's thread (see ``WALCheckpointer``).
    let walCheckpointer: WALCheckpointer
    /// Where the stored index stopped tiling the log when the file was opened (someone edited
    /// `audit_blocks`), or nil. Readers already distrust the blocks from there on; the owner
    /// records the finding and calls ``rebuildIndex()``.
    private(set) var indexFaultAtOpen: AuditIndexFault?
    private var entriesSinceWALCheckpoint = 0
    private var automaticWALCheckpoints = false
    /// Entries between two requests for a WAL checkpoint: a few hundred pages of log.
    static let walCheckpointEntries = 2000

    /// Opens (creating if needed) the database at `path` with FULL synchronous commits,
    /// migrates it, installs the append-only authorizer and reads the head.
    init(
        path: String, signingKey: AuditSigningKey, origin: String, checkpointEvery: Int64,
        indexBatchSize: Int, clock: WallClock
    ) throws(AuditError) {
        index = AuditIndex(batchSize: indexBatchSize)
        walCheckpointer = WALCheckpointer(path: path)
        self.signingKey = signingKey
        self.origin = origin
        self.checkpointEvery = max(1, checkpointEvery)
        self.clock = clock
        let database: Database
        do {
            database = try Database(path: path, synchronous: .full)
        } catch {
            throw AuditError.store(error, operation: "open audit database")
        }
        try AuditSchema.migrate(database)
        do {
            try database.execute("PRAGMA wal_autocheckpoint = 0")
        } catch {
            throw AuditError.store(error, operation: "hand WAL checkpoints to the checkpointer")
        }
        do {
            try database.setAuthorizer(denyingWritesTo: AuditSchema.appendOnlyTables)
        } catch {
            throw AuditError.store(error, operation: "install authorizer")
        }
        self.database = database
        try reloadHeadIfStale()
        do {
            indexFaultAtOpen = try AuditIndex.tiling(database, head: headSeq).fault
        } catch {
            throw AuditError.store(error, operation: "read index")
        }
        // A log that stopped with entries not yet indexed (a crash) catches up before serving.
        try indexTail(all: true)
    }

    /// Closes the connections (the last one checkpoints SQLite's WAL into the main file).
    func close() {
        walCheckpointer.close()
        database = nil
    }

    var isOpen: Bool { database != nil }

    /// The last seq the index covers; entries after it are found by scanning the log.
    var indexedSeq: Int64 { index.indexedSeq }

    /// Appends `entries` (their `seq` is replaced) in one transaction, with the checkpoints
    /// that fall due inside it and, once a batch is due, the index rows, and syncs once.
    func commit(_ entries: [AuditEntry]) throws(AuditError) -> Commit {
        let database = try openDatabase()
        try reloadHeadIfStale()
        var seq = headSeq
        var hash = headHash
        var lastCheckpoint = checkpointSize
        var checkpoints: [Checkpoint] = []
        var numbered: [AuditEntry] = []
        numbered.reserveCapacity(entries.count)
        var indexed = index.indexedSeq
        do {
            try database.transaction {
                for var entry in entries {
                    seq += 1
                    entry.seq = seq
                    let bytes = try AuditCanonicalEncoder.encode(entry)
                    let next = AuditChain.hash(previous: hash, entry: bytes)
                    try insert(seq, bytes: bytes, previous: hash, hash: next, into: database)
                    numbered.append(entry)
                    hash = next
                    if seq - lastCheckpoint >= checkpointEvery {
                        checkpoints.append(try insertCheckpoint(size: seq, head: hash, database))
                        lastCheckpoint = seq
                    }
                }
                index.note(numbered, previousHead: headSeq)
                if index.isDue(head: seq) {
                    indexed = try index.write(upTo: seq, atMost: index.sliceSize, database)
                }
            }
        } catch {
            headIsStale = true
            throw AuditError.store(error, code: .writeFailed, operation: "append")
        }
        let first = headSeq + 1
        (headSeq, headHash, checkpointSize) = (seq, hash, lastCheckpoint)
        index.committed(upTo: indexed)
        if walCheckpointer.takeFinished() {
            finishWALCheckpoint(database)
        }
        entriesSinceWALCheckpoint += entries.count
        if entriesSinceWALCheckpoint >= Self.walCheckpointEntries {
            entriesSinceWALCheckpoint = 0
            requestWALCheckpoint(database)
        }
        return Commit(firstSeq: first, checkpoints: checkpoints)
    }

    /// Copies the frames appended while the background checkpoint ran, so that the WAL can
    /// restart from its beginning at the next commit.
    private func finishWALCheckpoint(_ database: Database) {
        do {
            try database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        } catch {
            // The frames stay in the WAL, readable and durable; the next finished background
            // checkpoint leads here again.
        }
    }

    /// Asks the background checkpointer for a checkpoint, or, once it has failed, hands the
    /// job back to SQLite's automatic checkpoint on this connection for good.
    private func requestWALCheckpoint(_ database: Database) {
        guard !automaticWALCheckpoints else {
            return
        }
        guard walCheckpointer.isFailing else {
            walCheckpointer.request()
            return
        }
        do {
            try database.execute("PRAGMA wal_autocheckpoint = 1000")
            automaticWALCheckpoints = true
        } catch {
            // Nothing is lost: the next request tries again, and the log keeps every commit.
        }
    }

    /// Writes the index rows of committed entries not indexed yet, in a transaction of their
    /// own: one slice (see ``AuditIndex/sliceSize``) from the writer's timer, or everything
    /// when `all` (on opening and closing the log).
    func indexTail(all: Bool = false) throws(AuditError) {
        let database = try openDatabase()
        try reloadHeadIfStale()
        guard headSeq > index.indexedSeq else {
            return
        }
        let (head, limit) = (headSeq, all ? Int.max : index.sliceSize)
        do {
            let indexed = try database.transaction {
                try index.write(upTo: head, atMost: limit, database)
            }
            index.committed(upTo: indexed)
        } catch {
            headIsStale = true
            throw AuditError.store(error, code: .writeFailed, operation: "index")
        }
    }

    /// Drops the index and writes it again from the log, in one transaction: the repair for an
    /// index whose blocks were out of place at opening, or one that ``AuditVerifier`` found to
    /// differ from the entries. On failure the old index stays as it was.
    ///
    /// The writer writes no entry of its own, so the caller records why it rebuilds first:
    /// the repair then leaves evidence, and a crash before it repeats both at the next start.
    /// Decodes every entry, as verification does: seconds for a large log, during which no
    /// group commits.
    func rebuildIndex() throws(AuditError) {
        let database = try openDatabase()
        try reloadHeadIfStale()
        let head = headSeq
        var rebuilt = AuditIndex(batchSize: index.batchSize)
        let guarded = AuditSchema.appendOnlyTables
        var failure: AuditError?
        do {
            try database.setAuthorizer(denyingWritesTo: guarded.subtracting(AuditSchema.indexTables))
            try database.transaction {
                try database.execute(AuditSchema.rebuildIndex)
                // Slice by slice, so that only one slice of decoded entries is in memory.
                while rebuilt.indexedSeq < head {
                    rebuilt.committed(upTo: try rebuilt.write(upTo: head, atMost: rebuilt.sliceSize, database))
                }
            }
            index = rebuilt
        } catch {
            headIsStale = true
            failure = AuditError.store(error, code: .writeFailed, operation: "rebuild index")
        }
        // The evidence tables stayed guarded throughout; the index tables are guarded again.
        do {
            try database.setAuthorizer(denyingWritesTo: guarded)
        } catch {
            throw AuditError.store(error, operation: "install authorizer")
        }
        if let failure {
            throw failure
        }
    }

    /// Signs and stores a checkpoint of the current head, unless the newest checkpoint
    /// already covers it. Returns the new checkpoint, if any.
    func checkpointHead() throws(AuditError) -> Checkpoint? {
        let database = try openDatabase()
        try reloadHeadIfStale()
        guard headSeq > checkpointSize else {
            return nil
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try database.transaction {
                try insertCheckpoint(size: headSeq, head: headHash, database)
            }
        } catch {
            headIsStale = true
            throw AuditError.store(error, code: .writeFailed, operation: "checkpoint")
        }
        checkpointSize = checkpoint.size
        return checkpoint
    }

    /// A small durable write that changes nothing (it rewrites `user_version` with its own
    /// value), to learn whether the file accepts writes again.
    func probe() throws(AuditError) {
        let database = try openDatabase()
        do {
            let version = try database.scalar("PRAGMA user_version") ?? 0
            try database.transaction {
                // PRAGMA takes no parameters; the value is the integer SQLite just returned.
                try database.execute("PRAGMA user_version = \(version)")
            }
        } catch {
            headIsStale = true
            throw AuditError.store(error, code: .writeFailed, operation: "probe")
        }
        try reloadHeadIfStale()
    }

    /// Runs `body` with the connection; for tests that simulate storage failures.
    func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try body(try openDatabase())
    }

    private func openDatabase() throws(AuditError) -> Database {
        guard let database else {
            throw AuditError(.closed, operation: "append", message: "the audit log is closed")
        }
        return database
    }

    private func reloadHeadIfStale() throws(AuditError) {
        guard headIsStale, let database else {
            return
        }
        do {
            let head = try database.query(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
            ) { ($0.int64(at: 0), $0.blob(at: 1)) }.first
            headSeq = head?.0 ?? 0
            headHash = head?.1 ?? AuditChain.genesis
            checkpointSize = try database.scalar("SELECT max(size) FROM audit_checkpoints") ?? 0
            try index.reload(database)
        } catch {
            throw AuditError.store(error, code: .writeFailed, operation: "read head")
        }
        guard headHash.count == AuditChain.genesis.count else {
            throw AuditError(
                .storage, operation: "read head", message: "the stored head hash is not 32 bytes")
        }
        headIsStale = false
    }

    private func insert(
        _ seq: Int64, bytes: [UInt8], previous: [UInt8], hash: [UInt8], into database: Database
    ) throws {
        try database.run(
            "INSERT INTO audit_log(seq, prev_hash, entry, hash) VALUES (?, ?, ?, ?)",
            [.integer(seq), .blob(previous), .blob(bytes), .blob(hash)])
    }

    private func insertCheckpoint(size: Int64, head: [UInt8], _ database: Database) throws
        -> Checkpoint
    {
        let checkpoint = try Checkpoint.sign(
            origin: origin, size: size, headHash: head, signedAt: clock.unixMilliseconds(),
            keyName: signingKey.keyName, key: signingKey.privateKey)
        try database.run(
            """
            INSERT INTO audit_checkpoints(size, head_hash, signed_note, signed_at)
            VALUES (?, ?, ?, ?)
            """,
            [
                .integer(size), .blob(head), .text(checkpoint.signedNote),
                .integer(checkpoint.signedAt),
            ])
        return checkpoint
    }
}
