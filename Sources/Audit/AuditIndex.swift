import Store

/// `audit_index`, the lookup table of the compliance queries, kept behind the evidence.
///
/// The index is derived data: each row repeats a few fields of one `audit_log` entry, and
/// nothing verifies it. Writing it with every group commit cost more than the entries
/// themselves, because each of its five secondary indexes dirties its own scattered pages,
/// and every commit writes every dirty page to the WAL again. So the writer indexes in
/// batches: the rows of committed entries wait in memory until `batchSize` of them are
/// due, then go in with the next group's transaction; the writer's timer indexes what
/// waits between batches, and opening and closing the log index all that is left. Readers cover the difference by scanning the unindexed tail of
/// `audit_log` (``AuditReader``), so a query sees every committed entry either way.
///
/// After a restart or a failed commit the rows in memory are not trusted: the tail is
/// re-read from `audit_log` and decoded, which is also how a log that crashed with
/// unindexed entries catches up when it is opened.
struct AuditIndex {
    /// One `audit_index` row.
    struct Row: Equatable {
        let seq: Int64
        let time: Int64
        let actor: String
        let patient: String?
        let event: String
        let action: String
        let outcome: String
        let grant: String?
        let resourceCount: Int

        init(_ entry: AuditEntry) {
            seq = entry.seq
            time = entry.time
            actor = entry.actor
            patient = entry.patient.flatMap { $0.isEmpty ? nil : $0 }
            event = entry.event
            action = entry.action
            outcome = entry.outcome
            grant = entry.grant.flatMap { $0.isEmpty ? nil : $0 }
            resourceCount = entry.resources.count
        }
    }

    /// How many unindexed entries make a batch worth writing with a group commit.
    let batchSize: Int
    /// The highest seq present in `audit_index`, as of the last commit that succeeded.
    private(set) var indexedSeq: Int64 = 0
    /// Rows for the entries after `indexedSeq`, in seq order, or empty when not known.
    private var pending: [Row] = []

    init(batchSize: Int) {
        self.batchSize = max(1, batchSize)
    }

    /// Forgets the rows in memory and reads `indexedSeq` from the file; after a failure,
    /// the tail is then read back from `audit_log`.
    mutating func reload(_ database: Database) throws {
        indexedSeq = try database.scalar("SELECT coalesce(max(seq), 0) FROM audit_index") ?? 0
        pending.removeAll()
    }

    /// Remembers the rows of `entries`, which the caller is committing with seqs following
    /// `previousHead` (the head before the group).
    mutating func note(_ entries: [AuditEntry], previousHead: Int64) {
        let expected = indexedSeq + Int64(pending.count)
        guard expected == previousHead else {
            // Rows are missing in between (after a reload): keep none; `write` reads them.
            pending.removeAll()
            return
        }
        pending.append(contentsOf: entries.map(Row.init))
    }

    /// True when `head - indexedSeq` has reached a batch.
    func isDue(head: Int64) -> Bool {
        head - indexedSeq >= Int64(batchSize)
    }

    /// The most rows one transaction indexes while the gateway serves: a backlog (after
    /// a failure, or a burst between ticks) is worked off in slices this size, so that no
    /// group commit waits for a long index write.
    var sliceSize: Int { batchSize * 4 }

    /// Inserts the rows for the entries after `indexedSeq` up to `head`, at most `limit` of
    /// them, into `audit_index` inside the caller's transaction. Returns the new indexed seq,
    /// which the caller passes to `committed` once its transaction has committed.
    func write(upTo head: Int64, atMost limit: Int = .max, _ database: Database) throws -> Int64 {
        guard head > indexedSeq else {
            return indexedSeq
        }
        let end = indexedSeq + min(head - indexedSeq, Int64(max(limit, 1)))
        let count = Int(end - indexedSeq)
        let remembered = Int64(pending.count) == head - indexedSeq ? pending.prefix(count) : nil
        let rows = try remembered ?? Self.decodeTail(after: indexedSeq, upTo: end, database)[...]
        for row in rows {
            try Self.insert(row, database)
        }
        return end
    }

    /// Records that the rows up to `seq` are now in the file.
    mutating func committed(upTo seq: Int64) {
        let done = Int(seq - indexedSeq)
        pending.removeFirst(min(max(done, 0), pending.count))
        indexedSeq = seq
    }

    private static func decodeTail(after seq: Int64, upTo head: Int64, _ database: Database)
        throws -> [Row]
    {
        let stored = try database.query(
            "SELECT entry FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq",
            [.integer(seq), .integer(head)]
        ) { $0.blob(at: 0) }
        return try stored.map { bytes in Row(try AuditCanonicalEncoder.decode(bytes)) }
    }

    private static func insert(_ row: Row, _ database: Database) throws {
        try database.run(
            """
            INSERT INTO audit_index(seq, time, actor, patient, event, action, outcome, grant_id,
                resource_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(row.seq), .integer(row.time), .text(row.actor),
                .optionalText(row.patient), .text(row.event), .text(row.action),
                .text(row.outcome), .optionalText(row.grant), .int(row.resourceCount),
            ])
    }
}
