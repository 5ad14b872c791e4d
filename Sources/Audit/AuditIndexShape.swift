import Store

/// A place where the stored index (``AuditIndex``) does not describe the log: a block out of
/// place, or a block whose stored terms or time range differ from its entries'.
///
/// The entries themselves may be intact; what is wrong is the lookup data the compliance
/// queries use to skip blocks, so a query trusting it could miss entries. The message names
/// positions only, never a term (terms are field values: actors, patients).
public struct AuditIndexFault: Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, as an extensible set of named values.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        /// Entries between two blocks (or before the first) are in no block.
        public static let gap = Kind("gap")
        /// A block starts inside the block before it.
        public static let overlap = Kind("overlap")
        /// A block ends after the last entry of the log.
        public static let pastHead = Kind("past_head")
        /// A block ends before it starts.
        public static let reversed = Kind("reversed")
        /// A block covers more entries than the writer ever puts in one.
        public static let oversized = Kind("oversized")
        /// A block's stored terms differ from the terms of its entries.
        public static let terms = Kind("terms")
        /// A block's stored time range differs from its entries' times.
        public static let times = Kind("times")
        /// Terms name a block that does not exist.
        public static let orphanTerms = Kind("orphan_terms")
        /// The index tables cannot be read.
        public static let unreadable = Kind("unreadable")
    }

    /// The first seq of the block named (for orphan terms, the block number they name; 0 when
    /// the tables cannot be read).
    public let block: Int64
    public let kind: Kind
    public let message: String

    public init(block: Int64, kind: Kind, message: String) {
        self.block = block
        self.kind = kind
        self.message = message
    }

    public var description: String { "index block \(block): \(kind): \(message)" }
}

/// Walks the rows of `audit_blocks` in `first_seq` order and finds how far they tile the log:
/// contiguous from entry 1, without overlaps, each ending by the head and, when asked, no
/// longer than a block may be.
///
/// The writer only ever appends blocks that continue the last one, so an honest index tiles
/// entries 1 through `coveredSeq` exactly and the entries after it are the unindexed tail. A
/// reader trusts the blocks before the fault only and scans everything after them entry by
/// entry: a block row added, removed or moved by hand then costs time, never entries. When two
/// blocks overlap, either may be the forged one, so the fault names the earlier of the two and
/// neither is trusted.
struct BlockTiling {
    /// The last seq of the log, read in the same snapshot as the blocks.
    let head: Int64
    /// The most entries one block may cover.
    let maximumSize: Int64
    /// The last seq covered by the blocks trusted so far (before `fault.block`).
    private(set) var coveredSeq: Int64 = 0
    /// The first block not trusted, once one was seen: blocks from `fault.block` on are not.
    private(set) var fault: AuditIndexFault?
    /// The block accepted last, and what was covered before it, for an overlap found next.
    private var last: (first: Int64, coveredBefore: Int64)?

    init(head: Int64, maximumSize: Int64 = .max) {
        self.head = head
        self.maximumSize = max(1, maximumSize)
    }

    /// Accepts the block `first...last` when it continues the tiling; false from the first
    /// block that does not (every later block is then untrusted as well).
    mutating func add(first: Int64, last: Int64) -> Bool {
        guard fault == nil else {
            return false
        }
        if first <= coveredSeq, let previous = self.last {
            fault = AuditIndexFault(
                block: previous.first, kind: .overlap,
                message: "the block starting at \(first) starts inside this one, which ends at \(coveredSeq)")
            coveredSeq = previous.coveredBefore
            return false
        }
        fault = Self.fault(first: first, last: last, after: coveredSeq, head: head, maximumSize: maximumSize)
        guard fault == nil else {
            return false
        }
        self.last = (first, coveredSeq)
        coveredSeq = last
        return true
    }

    private static func fault(
        first: Int64, last: Int64, after covered: Int64, head: Int64, maximumSize: Int64
    ) -> AuditIndexFault? {
        if last < first {
            return AuditIndexFault(block: first, kind: .reversed, message: "the block ends at \(last)")
        }
        if first <= covered {
            // Only a block before the first can start at or before what is covered: seq < 1.
            return AuditIndexFault(block: first, kind: .overlap, message: "the block starts before entry 1")
        }
        if first > covered + 1 {
            return AuditIndexFault(
                block: first, kind: .gap, message: "entries \(covered + 1) to \(first - 1) are in no block")
        }
        if last > head {
            return AuditIndexFault(
                block: first, kind: .pastHead, message: "the block ends at \(last); the log ends at \(head)")
        }
        if last - first >= maximumSize {
            return AuditIndexFault(
                block: first, kind: .oversized,
                message: "the block covers \(last - first + 1) entries; blocks hold at most \(maximumSize)")
        }
        return nil
    }
}

extension AuditIndex {
    /// The tiling of the blocks stored in `database`, given the log's `head` (read in the same
    /// transaction). Reads `audit_blocks` in order up to the first fault.
    ///
    /// One pass over the block rows, a few integers each: a log of a million entries has about
    /// 4,000 of them. Terms are not read; only ``AuditVerifier`` compares those with the log.
    static func tiling(_ database: Database, head: Int64, maximumSize: Int64 = .max) throws
        -> BlockTiling
    {
        var tiling = BlockTiling(head: head, maximumSize: maximumSize)
        let statement = try database.prepare("SELECT first_seq, last_seq FROM audit_blocks ORDER BY first_seq")
        defer { statement.reset() }
        while try statement.step() {
            guard tiling.add(first: statement.int64(at: 0), last: statement.int64(at: 1)) else {
                break
            }
        }
        return tiling
    }
}
