public import Store

/// Compliance queries over the audit database: events by filter, one event, checkpoints and
/// the accounting of disclosures for a patient.
///
/// Filtering asks the index (``AuditIndex``, written by the writer in batches) which runs of
/// entries can hold a match, and tests the entries of those runs, and of the tail the index
/// does not cover yet, one by one; the entries returned are decoded from `audit_log` itself,
/// so what a query shows is what the chain covers. Block rows that do not tile the log are not
/// trusted (see `coverage`); terms are, and ``AuditVerifier`` checks them, as it checks the
/// chain.
///
/// Shares the threading contract of its `Database`: one thread at a time. Open one reader per
/// request thread, read-only, beside the writer's connection (WAL lets them read while it
/// writes).
public final class AuditReader {
    /// The most entries one page returns.
    public static let maximumLimit = 1000

    private let database: Database

    /// A reader over `database`, which should be opened read-only.
    public init(database: Database) {
        self.database = database
    }

    /// Opens the audit database at `path` read-only.
    ///
    /// `offline` is for a file no process writes, such as a copy handed to an auditor: when its
    /// directory cannot be written either, it is opened immutable (see
    /// ``Database/needsImmutableOpen(path:)``), which is the only way SQLite reads it there.
    public static func open(path: String, offline: Bool = false) throws(AuditError) -> AuditReader {
        do {
            let immutable = offline && Database.needsImmutableOpen(path: path)
            return AuditReader(database: try Database(path: path, readOnly: true, immutable: immutable))
        } catch {
            throw AuditError.store(error, operation: "open audit database")
        }
    }

    /// Entries matching `filter` with seq greater than `after`, oldest first, at most `limit`
    /// (clamped to 1...``maximumLimit``).
    public func events(filter: AuditFilter, limit: Int, after cursor: Int64 = 0)
        throws(AuditError) -> AuditPage
    {
        let fields: [(StaticString, String?)] = [
            ("actor", filter.actor), ("event", filter.event),
            ("action", filter.action), ("outcome", filter.outcome), ("grant", filter.grant),
        ]
        let selection = Selection(
            terms: Term.all(of: filter), since: filter.since, until: filter.until,
            needles: fields.compactMap { name, value in
                value.map { AuditCanonicalEncoder.member(name, $0) }
            } + (filter.patient.map { [Self.patientNeedle($0)] } ?? []),
            matches: filter.matches)
        return try page(selection, limit: limit, after: cursor)
    }

    /// The accounting of disclosures for `patient`: entries where PHI of that patient was
    /// released (outcome "allowed" with at least one of the patient's resources), oldest
    /// first. Entries are returned whole; ``AuditEntry/resources(of:)`` says which of their
    /// resources were that patient's.
    ///
    /// `inbound` names the events whose resources were received rather than released (an
    /// import): the caller knows which those are. Any other event with resources counts, so an
    /// event added later is listed until it is named here, never silently left out.
    public func disclosures(
        patient: String, limit: Int, after cursor: Int64 = 0, inbound: Set<String> = []
    ) throws(AuditError) -> AuditPage {
        let selection = Selection(
            terms: [Term.patient(patient), Term.outcome("allowed")], since: nil, until: nil,
            needles: [Self.patientNeedle(patient), AuditCanonicalEncoder.member("outcome", "allowed")],
            matches: { entry in
                entry.outcome == "allowed" && !inbound.contains(entry.event)
                    && !entry.resources(of: patient).isEmpty
            })
        return try page(selection, limit: limit, after: cursor)
    }

    /// Bytes every stored entry concerning `patient` holds, whether the id is its `patient`
    /// member (`"patient":"ID"`) or a resource (`"Patient/ID"`): the id as an encoded string,
    /// up to its closing quote.
    static func patientNeedle(_ patient: String) -> [UInt8] {
        var quoted: [UInt8] = []
        AuditCanonicalEncoder.appendString(patient, to: &quoted)
        return Array(quoted.dropFirst())
    }

    /// The entry at `seq`, or nil when there is none.
    public func event(seq: Int64) throws(AuditError) -> AuditEntry? {
        let rows: [[UInt8]]
        do {
            let sql = "SELECT entry FROM audit_log WHERE seq = ?"
            rows = try database.query(sql, [.integer(seq)]) { $0.blob(at: 0) }
        } catch {
            throw AuditError.store(error, operation: "read event")
        }
        return try rows.first.map { bytes throws(AuditError) in
            try AuditCanonicalEncoder.decode(bytes)
        }
    }

    /// The seq of the newest entry (0 for an empty log).
    public func size() throws(AuditError) -> Int64 {
        do {
            return try database.scalar("SELECT coalesce(max(seq), 0) FROM audit_log") ?? 0
        } catch {
            throw AuditError.store(error, operation: "read size")
        }
    }

    /// Stored checkpoints, oldest first, as recorded. Their signatures are not checked here:
    /// a client checks the signed note with the public key.
    public func checkpoints() throws(AuditError) -> [Checkpoint] {
        try checkpoints("ORDER BY size")
    }

    /// The newest stored checkpoint, as recorded, or nil when none is signed yet.
    public func newestCheckpoint() throws(AuditError) -> Checkpoint? {
        try checkpoints("ORDER BY size DESC LIMIT 1").first
    }

    /// The checkpoints `order` (a fixed SQL fragment) selects.
    private func checkpoints(_ order: String) throws(AuditError) -> [Checkpoint] {
        let rows: [(Int64, [UInt8], String, Int64)]
        do {
            let sql = "SELECT size, head_hash, signed_note, signed_at FROM audit_checkpoints " + order
            rows = try database.query(sql) { ($0.int64(at: 0), $0.blob(at: 1), $0.text(at: 2) ?? "", $0.int64(at: 3)) }
        } catch {
            throw AuditError.store(error, operation: "read checkpoints")
        }
        return rows.map { size, head, note, signedAt in
            let origin = SignedNote.split(note).map { String($0.text.prefix { $0 != "\n" }) } ?? ""
            return Checkpoint(
                origin: origin, size: size, headHash: head, signedAt: signedAt, signedNote: note)
        }
    }

    /// What a page selects: the index terms and time range that narrow it to blocks, and the
    /// test of each entry in those blocks and in the unindexed tail.
    private struct Selection {
        /// Terms (see ``Term``) every selected entry has.
        let terms: [String]
        let since: Int64?
        let until: Int64?
        /// Byte strings the canonical form of every selected entry contains: a cheap test that
        /// spares decoding most entries that do not match. Finding them proves nothing.
        let needles: [[UInt8]]
        /// The test that decides.
        let matches: (AuditEntry) -> Bool
    }

    /// A run of entries the index describes.
    private struct Block {
        let firstSeq: Int64
        let lastSeq: Int64
    }

    /// How many candidate blocks one index query fetches.
    private static let blocksPerQuery = 64

    /// What of the log the index may be trusted for: blocks that start before `untrustedFrom`
    /// tile entries 1 through `indexedSeq`; everything after is read entry by entry.
    private struct Coverage {
        let indexedSeq: Int64
        let untrustedFrom: Int64
    }

    /// One page: matching entries after `cursor` in the blocks the index points to, then in
    /// the unindexed tail, all read in one transaction so that the two parts meet exactly.
    private func page(_ selection: Selection, limit: Int, after cursor: Int64)
        throws(AuditError) -> AuditPage
    {
        let count = min(max(limit, 1), Self.maximumLimit)
        var entries: [AuditEntry] = []
        do {
            try database.readTransaction {
                let coverage = try coverage()
                let indexed = coverage.indexedSeq
                var position = cursor
                while position < indexed && entries.count <= count {
                    let blocks = try candidateBlocks(selection, after: position, coverage)
                    for block in blocks where entries.count <= count {
                        try scan(
                            after: max(position, block.firstSeq - 1), through: block.lastSeq,
                            selection, into: &entries, limit: count + 1)
                        position = block.lastSeq
                    }
                    if blocks.count < Self.blocksPerQuery {
                        position = max(position, indexed)
                    }
                }
                if entries.count <= count {
                    try scan(
                        after: max(cursor, indexed), through: nil, selection, into: &entries,
                        limit: count + 1)
                }
            }
        } catch let error as AuditError {
            throw error
        } catch {
            throw AuditError.store(error, operation: "query events")
        }
        let more = entries.count > count
        entries.removeLast(entries.count - min(entries.count, count))
        return AuditPage(entries: entries, nextCursor: more ? entries.last?.seq : nil)
    }

    /// How far the index covers the log. A log whose schema predates the index in its present
    /// form (a copy from an older version, read offline) has none and is read entry by entry.
    ///
    /// The block rows are not taken on trust: from the first one that does not continue the
    /// ones before it (a gap, an overlap, a block past the last entry), the index counts as
    /// absent, so an edited `audit_blocks` can slow queries down but not hide entries. Terms
    /// are not compared with the entries here (``AuditVerifier`` does that); this costs one
    /// pass over the block rows, a few integers per 256 entries.
    private func coverage() throws -> Coverage {
        let version = try database.scalar("PRAGMA user_version") ?? 0
        guard version >= AuditSchema.currentIndexVersion else {
            return Coverage(indexedSeq: 0, untrustedFrom: 0)
        }
        let head = try database.scalar("SELECT coalesce(max(seq), 0) FROM audit_log") ?? 0
        let tiling = try AuditIndex.tiling(database, head: head)
        return Coverage(indexedSeq: tiling.coveredSeq, untrustedFrom: tiling.fault?.block ?? .max)
    }

    /// The next blocks, oldest first, that hold entries after `seq` with every term of the
    /// selection and times that can fall in its range, among the blocks `coverage` trusts.
    private func candidateBlocks(_ selection: Selection, after seq: Int64, _ coverage: Coverage) throws
        -> [Block]
    {
        // The SQL text is assembled from fixed fragments only; every value is bound.
        // The trusted block holding seq + 1 starts at or before seq + 1; older ones end before it.
        let start =
            "(SELECT coalesce(max(first_seq), 0) FROM audit_blocks WHERE first_seq <= ? AND first_seq < ?)"
        let trusted = SQLiteValue.integer(coverage.untrustedFrom)
        var sql: String
        var conditions = ["b.last_seq > ?", "b.first_seq < ?"]
        var values: [SQLiteValue] = []
        if let first = selection.terms.first {
            sql = "SELECT b.first_seq, b.last_seq FROM audit_terms t "
                + "JOIN audit_blocks b ON b.first_seq = t.block WHERE t.term = ? AND t.block >= "
                + start
            values += [.text(first), .integer(seq + 1), trusted, .integer(seq), trusted]
            for term in selection.terms.dropFirst() {
                conditions.append(
                    "EXISTS (SELECT 1 FROM audit_terms o WHERE o.term = ? AND o.block = b.first_seq)")
                values.append(.text(term))
            }
        } else {
            sql = "SELECT b.first_seq, b.last_seq FROM audit_blocks b WHERE b.first_seq >= " + start
            values += [.integer(seq + 1), trusted, .integer(seq), trusted]
        }
        if let since = selection.since {
            conditions.append("b.max_time >= ?")
            values.append(.integer(since))
        }
        if let until = selection.until {
            conditions.append("b.min_time < ?")
            values.append(.integer(until))
        }
        sql += " AND " + conditions.joined(separator: " AND ") + " ORDER BY b.first_seq LIMIT ?"
        values.append(.int(Self.blocksPerQuery))
        return try database.query(sql, values) { row in
            Block(firstSeq: row.int64(at: 0), lastSeq: row.int64(at: 1))
        }
    }

    /// Appends the entries after `seq` (up to `last`, or to the end of the log) that match,
    /// until `entries` holds `limit`. Only entries holding every needle are decoded.
    private func scan(
        after seq: Int64, through last: Int64?, _ selection: Selection,
        into entries: inout [AuditEntry], limit: Int
    ) throws {
        let rows: [[UInt8]]
        if let last {
            rows = try database.query(
                "SELECT entry FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq",
                [.integer(seq), .integer(last)]
            ) { $0.blob(at: 0) }
        } else {
            rows = try database.query(
                "SELECT entry FROM audit_log WHERE seq > ? ORDER BY seq", [.integer(seq)]
            ) { $0.blob(at: 0) }
        }
        for bytes in rows where entries.count < limit {
            guard selection.needles.allSatisfy({ Self.bytes(bytes, contain: $0) }) else {
                continue
            }
            let entry = try AuditCanonicalEncoder.decode(bytes)
            if selection.matches(entry) {
                entries.append(entry)
            }
        }
    }

    /// Whether `needle` occurs in `haystack`.
    static func bytes(_ haystack: [UInt8], contain needle: [UInt8]) -> Bool {
        guard let lead = needle.first, needle.count <= haystack.count else {
            return needle.isEmpty
        }
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { wanted in
                var start = 0
                let lastStart = hay.count - wanted.count
                while start <= lastStart {
                    if hay[start] == lead {
                        var offset = 1
                        while offset < wanted.count && hay[start + offset] == wanted[offset] {
                            offset += 1
                        }
                        if offset == wanted.count {
                            return true
                        }
                    }
                    start += 1
                }
                return false
            }
        }
    }
}
