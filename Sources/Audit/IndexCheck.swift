import Store

/// Compares the stored index with the index the writer would store for the entries that
/// ``ChainScan`` reads, block by block, while the scan runs.
///
/// It starts from the blocks in place (``BlockTiling``) and a cursor over the stored terms in
/// (block, term) order; it is fed every entry in seq order, and `finish` closes the last
/// blocks. One block's terms are in memory at a time, so a log of any length is checked in the
/// verifier's single pass. The first fault found, by position, is kept; the comparison stops
/// there, since every later finding would be further on.
final class IndexCheck {
    /// One row of `audit_blocks`, as stored.
    struct StoredBlock: Equatable {
        let firstSeq: Int64
        let lastSeq: Int64
        let minTime: Int64
        let maxTime: Int64
    }

    /// The next stored term in (block, term) order, or nil after the last.
    typealias TermCursor = () throws -> (block: Int64, term: String)?

    /// The blocks in place, in seq order.
    private let blocks: [StoredBlock]
    /// The first seq of the first block out of place; terms from there on belong to blocks
    /// already reported.
    private let untrustedFrom: Int64?
    private let nextTerm: TermCursor
    private var lookahead: (block: Int64, term: String)?
    private var atEnd = false
    /// The position in `blocks` of the block being summed up.
    private var position = 0
    private var current: BlockSummary?
    /// False when an entry of the current block did not decode (the chain reports it).
    private var currentIsComplete = true
    private(set) var fault: AuditIndexFault?
    private(set) var blocksChecked = 0

    /// `tiling` has read `blocks` (the rows it accepted) and may name the first one out of place.
    init(blocks: [StoredBlock], tiling: BlockTiling, terms: @escaping TermCursor) {
        self.blocks = blocks
        self.untrustedFrom = tiling.fault?.block
        self.fault = tiling.fault
        self.nextTerm = terms
    }

    /// True once the fault kept lies at or before the block being summed up: nothing found
    /// from there on could come first.
    private var stopped: Bool {
        guard let fault else {
            return false
        }
        return position >= blocks.count || fault.block <= blocks[position].firstSeq
    }

    /// Adds the entry stored at `seq`, or notes that it did not decode (nil).
    func add(seq: Int64, entry: AuditEntry?) {
        while !stopped, position < blocks.count, seq > blocks[position].lastSeq {
            close()
        }
        guard !stopped, position < blocks.count, seq >= blocks[position].firstSeq else {
            return
        }
        guard let entry else {
            currentIsComplete = false
            return
        }
        let row = AuditIndex.Row(entry)
        if current == nil {
            current = BlockSummary(row)
        } else {
            current?.add(row)
        }
    }

    /// Closes the remaining blocks and looks for terms that name no block.
    func finish() {
        while !stopped, position < blocks.count {
            close()
        }
        guard !stopped else {
            return
        }
        // Every block in place has taken its terms; what is left names none of them.
        if let (block, _) = peek(), block < (untrustedFrom ?? .max) {
            record(orphan: block)
        }
    }

    /// Compares the block at `position` with the summary of its entries and moves on.
    private func close() {
        let stored = blocks[position]
        let terms = storedTerms(of: stored.firstSeq)
        defer {
            position += 1
            current = nil
            currentIsComplete = true
        }
        guard let terms, !stopped else {
            return
        }
        blocksChecked += 1
        guard currentIsComplete, let summary = current else {
            return
        }
        if summary.minTime != stored.minTime || summary.maxTime != stored.maxTime {
            record(
                AuditIndexFault(
                    block: stored.firstSeq, kind: .times,
                    message: "the stored time range differs from the times of the block's entries"))
        } else if summary.terms != terms {
            let differing = summary.terms.symmetricDifference(terms).count
            record(
                AuditIndexFault(
                    block: stored.firstSeq, kind: .terms,
                    message: "the index lists \(terms.count) terms for the block, its entries have "
                        + "\(summary.terms.count); \(differing) differ"))
        }
    }

    /// The stored terms of the block starting at `first`; terms naming an earlier block that
    /// is not in place are a fault. Nil when the terms cannot be read or a fault was found.
    private func storedTerms(of first: Int64) -> Set<String>? {
        var terms = Set<String>()
        while let (block, term) = peek(), block <= first {
            guard block == first else {
                record(orphan: block)
                return nil
            }
            terms.insert(term)
            lookahead = nil
        }
        return stopped ? nil : terms
    }

    private func peek() -> (block: Int64, term: String)? {
        if lookahead == nil, !atEnd {
            do {
                lookahead = try nextTerm()
            } catch {
                record(
                    AuditIndexFault(
                        block: position < blocks.count ? blocks[position].firstSeq : 0, kind: .unreadable,
                        message: "the index terms cannot be read: " + AuditVerifier.readFailure(error)))
            }
            atEnd = lookahead == nil
        }
        return lookahead
    }

    private func record(orphan block: Int64) {
        record(AuditIndexFault(block: block, kind: .orphanTerms, message: "terms name a block that does not exist"))
    }

    private func record(_ found: AuditIndexFault) {
        if fault.map({ found.block < $0.block }) ?? true {
            fault = found
        }
    }
}

extension IndexCheck {
    /// Prepares the comparison for the log in `database` whose last entry is `head`: reads the
    /// block rows and opens the cursor over the terms. Nil for a log whose schema predates the
    /// index in its present form, which has no index to check. Call inside the transaction
    /// that the scan reads in, so that blocks, terms and entries are one snapshot.
    static func open(_ database: Database, head: Int64, maximumBlockSize: Int64) throws -> IndexCheck? {
        let version = try database.scalar("PRAGMA user_version") ?? 0
        guard version >= AuditSchema.currentIndexVersion else {
            return nil
        }
        var tiling = BlockTiling(head: head, maximumSize: maximumBlockSize)
        let rows = try database.query(
            "SELECT first_seq, last_seq, min_time, max_time FROM audit_blocks ORDER BY first_seq"
        ) { row in
            StoredBlock(
                firstSeq: row.int64(at: 0), lastSeq: row.int64(at: 1), minTime: row.int64(at: 2),
                maxTime: row.int64(at: 3))
        }
        for block in rows {
            guard tiling.add(first: block.firstSeq, last: block.lastSeq) else {
                break
            }
        }
        // The blocks before the fault (an overlap also takes back the block before it).
        let untrustedFrom = tiling.fault?.block ?? .max
        let accepted = rows.prefix { $0.firstSeq < untrustedFrom }
        // audit_terms has no index by block: one sorted pass costs a temporary sort, once.
        let terms = try database.prepare("SELECT block, term FROM audit_terms ORDER BY block, term")
        return IndexCheck(blocks: Array(accepted), tiling: tiling) {
            guard try terms.step() else {
                terms.reset()
                return nil
            }
            return (terms.int64(at: 0), terms.text(at: 1) ?? "")
        }
    }
}
