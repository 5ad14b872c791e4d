public import Store

/// Compliance queries over the audit database: events by filter, one event, checkpoints and
/// the accounting of disclosures for a patient.
///
/// Filtering uses `audit_index`, a copy of a few fields that the writer adds in batches
/// (``AuditIndex``), and tests the entries it does not cover yet one by one; the entries
/// returned are decoded from `audit_log` itself, so what a query shows is what the chain
/// covers. Nothing here verifies the chain; ``AuditVerifier`` does.
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
    public static func open(path: String) throws(AuditError) -> AuditReader {
        do {
            return AuditReader(database: try Database(path: path, readOnly: true))
        } catch {
            throw AuditError.store(error, operation: "open audit database")
        }
    }

    /// Entries matching `filter` with seq greater than `after`, oldest first, at most `limit`
    /// (clamped to 1...``maximumLimit``).
    public func events(filter: AuditFilter, limit: Int, after cursor: Int64 = 0)
        throws(AuditError) -> AuditPage
    {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        let equalities: [(String, String?)] = [
            ("i.actor", filter.actor), ("i.patient", filter.patient), ("i.event", filter.event),
            ("i.action", filter.action), ("i.outcome", filter.outcome),
            ("i.grant_id", filter.grant),
        ]
        for (column, value) in equalities {
            if let value {
                conditions.append(column + " = ?")
                values.append(.text(value))
            }
        }
        if let since = filter.since {
            conditions.append("i.time >= ?")
            values.append(.integer(since))
        }
        if let until = filter.until {
            conditions.append("i.time < ?")
            values.append(.integer(until))
        }
        let selection = Selection(conditions: conditions, values: values, matches: filter.matches)
        return try page(selection, limit: limit, after: cursor)
    }

    /// The accounting of disclosures for `patient`: entries where PHI of that patient was
    /// released (outcome "allowed" with at least one resource), oldest first.
    public func disclosures(patient: String, limit: Int, after cursor: Int64 = 0)
        throws(AuditError) -> AuditPage
    {
        let selection = Selection(
            conditions: ["i.patient = ?", "i.outcome = 'allowed'", "i.resource_count > 0"],
            values: [.text(patient)],
            matches: { entry in
                !patient.isEmpty && entry.patient == patient && entry.outcome == "allowed"
                    && !entry.resources.isEmpty
            })
        return try page(selection, limit: limit, after: cursor)
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
        let rows: [(Int64, [UInt8], String, Int64)]
        do {
            rows = try database.query(
                """
                SELECT size, head_hash, signed_note, signed_at FROM audit_checkpoints
                ORDER BY size
                """
            ) { ($0.int64(at: 0), $0.blob(at: 1), $0.text(at: 2) ?? "", $0.int64(at: 3)) }
        } catch {
            throw AuditError.store(error, operation: "read checkpoints")
        }
        return rows.map { size, head, note, signedAt in
            let origin = SignedNote.split(note).map { String($0.text.prefix { $0 != "\n" }) } ?? ""
            return Checkpoint(
                origin: origin, size: size, headHash: head, signedAt: signedAt, signedNote: note)
        }
    }

    /// What a page selects: conditions on `audit_index` for the indexed part of the log, and
    /// the same test on decoded entries for the tail the index does not cover yet.
    private struct Selection {
        let conditions: [String]
        let values: [SQLiteValue]
        let matches: (AuditEntry) -> Bool
    }

    /// One page: matching indexed entries after `cursor`, then matching entries of the
    /// unindexed tail, all read in one transaction so that the two parts meet exactly.
    private func page(_ selection: Selection, limit: Int, after cursor: Int64)
        throws(AuditError) -> AuditPage
    {
        let count = min(max(limit, 1), Self.maximumLimit)
        var entries: [AuditEntry] = []
        do {
            try database.readTransaction {
                let indexed =
                    try database.scalar("SELECT coalesce(max(seq), 0) FROM audit_index") ?? 0
                if cursor < indexed {
                    entries = try indexedEntries(selection, after: cursor, limit: count + 1)
                }
                if entries.count <= count {
                    try scanTail(
                        after: max(cursor, indexed), selection, into: &entries, limit: count + 1)
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

    private func indexedEntries(_ selection: Selection, after cursor: Int64, limit: Int) throws
        -> [AuditEntry]
    {
        // The SQL text is assembled from fixed fragments only; every value is bound.
        let sql =
            "SELECT l.entry FROM audit_index i JOIN audit_log l ON l.seq = i.seq "
            + "WHERE " + (["i.seq > ?"] + selection.conditions).joined(separator: " AND ")
            + " ORDER BY i.seq LIMIT ?"
        let values = [.integer(cursor)] + selection.values + [.int(limit)]
        let rows = try database.query(sql, values) { $0.blob(at: 0) }
        return try rows.map { bytes throws in try AuditCanonicalEncoder.decode(bytes) }
    }

    /// Appends the entries after `seq` that match, decoding each, until `entries` holds
    /// `limit`. The tail is at most one index batch plus what arrived since the writer's last
    /// tick, unless the writer cannot write its index.
    private func scanTail(
        after seq: Int64, _ selection: Selection, into entries: inout [AuditEntry], limit: Int
    ) throws {
        let rows = try database.query(
            "SELECT entry FROM audit_log WHERE seq > ? ORDER BY seq", [.integer(seq)]
        ) { $0.blob(at: 0) }
        for bytes in rows where entries.count < limit {
            let entry = try AuditCanonicalEncoder.decode(bytes)
            if selection.matches(entry) {
                entries.append(entry)
            }
        }
    }
}
