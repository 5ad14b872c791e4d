import Store

/// The lookup tables of the compliance queries, kept behind the evidence: `audit_blocks` and
/// `audit_terms`.
///
/// The index is derived data and coarse on purpose. The log is cut into blocks of consecutive
/// entries (at most `batchSize` each); `audit_blocks` holds each block's seq range and time
/// range, and `audit_terms` one row per distinct field value in the block ("actor alice
/// appears somewhere in entries 1025...1280"). A query looks up the blocks that hold every
/// value it asks for and tests the entries of those blocks one by one (``AuditReader``).
///
/// A row per entry and field, which is what an index per column costs, made the index the
/// dearest part of every audited request: each insert dirtied scattered pages that the group
/// commit then wrote and synced again. Blocks turn that into a handful of rows per few hundred
/// entries, because the same users, patients and events repeat; queries pay instead, by
/// testing the neighbours of what they look for.
///
/// The writer indexes in batches: the rows of committed entries wait in memory until
/// `batchSize` of them are due, then go in as one block with the next group's transaction;
/// the writer's timer indexes what waits between batches as a shorter block, and opening and
/// closing the log index all that is left. Readers scan the unindexed tail of `audit_log`,
/// so a query sees every committed entry either way.
///
/// After a restart or a failed commit the rows in memory are not trusted: the tail is re-read
/// from `audit_log` and decoded, which is also how a log that crashed with unindexed entries
/// catches up when it is opened.
struct AuditIndex {
    /// What the index keeps of one entry.
    struct Row: Equatable {
        let seq: Int64
        let time: Int64
        /// The entry's values of the indexed fields, as terms (see ``Term``).
        let terms: [String]

        init(_ entry: AuditEntry) {
            seq = entry.seq
            time = entry.time
            terms = Term.all(of: entry)
        }
    }

    /// The most entries one block covers, and how many unindexed entries make a batch worth
    /// writing with a group commit.
    let batchSize: Int
    /// The last seq `audit_blocks` covers, as of the last commit that succeeded.
    private(set) var indexedSeq: Int64 = 0
    /// Rows for the entries after `indexedSeq`, in seq order, or empty when not known.
    private var pending: [Row] = []

    init(batchSize: Int) {
        self.batchSize = max(1, batchSize)
    }

    /// Forgets the rows in memory and reads `indexedSeq` from the file; after a failure,
    /// the tail is then read back from `audit_log`.
    mutating func reload(_ database: Database) throws {
        indexedSeq = try database.scalar("SELECT coalesce(max(last_seq), 0) FROM audit_blocks") ?? 0
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

    /// The most entries one transaction indexes while the gateway serves: a backlog (after
    /// a failure, or a burst between ticks) is worked off in slices this size, so that no
    /// group commit waits for a long index write.
    var sliceSize: Int { batchSize * 4 }

    /// Writes the blocks for the entries after `indexedSeq` up to `head`, at most `limit` of
    /// them, inside the caller's transaction. Returns the new indexed seq, which the caller
    /// passes to `committed` once its transaction has committed.
    func write(upTo head: Int64, atMost limit: Int = .max, _ database: Database) throws -> Int64 {
        guard head > indexedSeq else {
            return indexedSeq
        }
        let end = indexedSeq + min(head - indexedSeq, Int64(max(limit, 1)))
        let count = Int(end - indexedSeq)
        let remembered = Int64(pending.count) == head - indexedSeq ? pending.prefix(count) : nil
        let rows = try remembered ?? Self.decodeTail(after: indexedSeq, upTo: end, database)[...]
        var start = rows.startIndex
        while start < rows.endIndex {
            let stop = min(start + batchSize, rows.endIndex)
            try Self.insertBlock(rows[start..<stop], database)
            start = stop
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

    /// One `audit_blocks` row for `rows` (consecutive, non-empty) and one `audit_terms` row
    /// per distinct term among them.
    private static func insertBlock(_ rows: ArraySlice<Row>, _ database: Database) throws {
        guard let block = BlockSummary(rows) else {
            return
        }
        try database.run(
            "INSERT INTO audit_blocks(first_seq, last_seq, min_time, max_time) VALUES (?, ?, ?, ?)",
            [.integer(block.firstSeq), .integer(block.lastSeq), .integer(block.minTime), .integer(block.maxTime)])
        // Sorted, so that the inserts walk the terms' B-tree in order.
        for term in block.terms.sorted() {
            try database.run(
                "INSERT INTO audit_terms(term, block) VALUES (?, ?)",
                [.text(term), .integer(block.firstSeq)])
        }
    }
}

/// What the index stores for one block of entries: its seq range, its time range and the
/// distinct terms of its entries.
///
/// The one definition of a block's index rows: the writer stores it, and ``AuditVerifier``
/// derives it again from the entries to compare with what is stored.
struct BlockSummary: Equatable {
    private(set) var firstSeq: Int64
    private(set) var lastSeq: Int64
    private(set) var minTime: Int64
    private(set) var maxTime: Int64
    private(set) var terms: Set<String>

    /// The summary of `rows` (in seq order), or nil when there are none.
    init?(_ rows: some Sequence<AuditIndex.Row>) {
        var iterator = rows.makeIterator()
        guard let first = iterator.next() else {
            return nil
        }
        self.init(first)
        while let row = iterator.next() {
            add(row)
        }
    }

    /// The summary of a block that starts with `row`.
    init(_ row: AuditIndex.Row) {
        (firstSeq, lastSeq, minTime, maxTime) = (row.seq, row.seq, row.time, row.time)
        terms = Set(row.terms)
    }

    /// Extends the block with `row`, the entry after the last one added.
    mutating func add(_ row: AuditIndex.Row) {
        lastSeq = row.seq
        minTime = min(minTime, row.time)
        maxTime = max(maxTime, row.time)
        terms.formUnion(row.terms)
    }
}

/// The values `audit_terms` records: one field of an entry as a single string, the field's
/// tag, a colon and the value ("a:alice", "p:example-1").
///
/// The fields are those a compliance filter compares for equality. An empty patient or grant
/// means "none" and has no term, so a filter for the empty value finds no block, just as
/// ``AuditFilter/matches(_:)`` finds no entry.
enum Term {
    static func actor(_ value: String) -> String { "a:" + value }
    static func patient(_ value: String) -> String { "p:" + value }
    static func event(_ value: String) -> String { "e:" + value }
    static func action(_ value: String) -> String { "c:" + value }
    static func outcome(_ value: String) -> String { "o:" + value }
    static func grant(_ value: String) -> String { "g:" + value }

    /// The terms of `entry`.
    static func all(of entry: AuditEntry) -> [String] {
        var terms = [
            actor(entry.actor), event(entry.event), action(entry.action), outcome(entry.outcome),
        ]
        for patient in entry.patients {
            terms.append(Self.patient(patient))
        }
        if let grant = entry.grant, !grant.isEmpty {
            terms.append(Self.grant(grant))
        }
        return terms
    }

    /// The terms every entry that `filter` selects has.
    static func all(of filter: AuditFilter) -> [String] {
        let wanted: [(String?, (String) -> String)] = [
            (filter.actor, actor), (filter.patient, patient), (filter.event, event),
            (filter.action, action), (filter.outcome, outcome), (filter.grant, grant),
        ]
        return wanted.compactMap { value, term in value.map(term) }
    }
}
