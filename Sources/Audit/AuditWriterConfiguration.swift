/// How an ``AuditWriter`` stores, groups and checkpoints entries.
public struct AuditWriterConfiguration: Sendable {
    /// The audit database file; created with its schema when missing.
    public var path: String
    /// The checkpoint origin line, the log's identity; nil uses the signing key's name, as
    /// tlog-checkpoint recommends (and as ``AuditVerifier`` assumes unless told a key name).
    public var origin: String?
    /// The most entries committed in one transaction (one fsync). 1 commits every entry on
    /// its own, which is what a benchmark compares grouping against.
    public var maxGroupSize: Int
    /// The most entries waiting for the writer; an append beyond it fails with `.queueFull`.
    public var queueCapacity: Int
    /// A checkpoint is signed whenever this many entries have been added since the last one,
    /// at exactly that position, inside the same transaction.
    public var checkpointEvery: Int64
    /// A checkpoint is also signed when the head has moved and this much time has passed
    /// since the last one.
    public var checkpointInterval: Duration
    /// While unhealthy, how often the writer tries a small write to see whether the database
    /// accepts writes again, so that readiness recovers without waiting for traffic.
    public var recoveryProbeInterval: Duration
    /// The compliance index (``AuditIndex``) gets a block once this many entries await it,
    /// with a group commit, and otherwise a shorter one from the writer's timer (every
    /// `recoveryProbeInterval` or sooner) and at close. It is also the most entries a block
    /// covers. Readers see the entries not yet indexed all the same.
    public var indexBatchSize: Int
    /// How long entries may wait without any commit finishing before the writer reports
    /// `.stalled` (a hung disk, a lock held elsewhere); `.moving` follows the next commit.
    /// The gateway uses its commit timeout, after which waiting requests fail anyway.
    public var stallThreshold: Duration

    /// The index batch the gateway uses, which is also the largest index block
    /// ``AuditVerifier`` accepts unless told otherwise.
    public static let defaultIndexBatchSize = 256

    public init(
        path: String, origin: String? = nil, maxGroupSize: Int = 1024,
        queueCapacity: Int = 16_384, checkpointEvery: Int64 = 1000,
        checkpointInterval: Duration = .seconds(60), recoveryProbeInterval: Duration = .seconds(1),
        indexBatchSize: Int = defaultIndexBatchSize, stallThreshold: Duration = .seconds(5)
    ) {
        self.path = path
        self.origin = origin
        self.maxGroupSize = maxGroupSize
        self.queueCapacity = queueCapacity
        self.checkpointEvery = checkpointEvery
        self.checkpointInterval = checkpointInterval
        self.recoveryProbeInterval = recoveryProbeInterval
        self.indexBatchSize = indexBatchSize
        self.stallThreshold = stallThreshold
    }
}

/// Counters for metrics; a snapshot, cheap to take.
public struct AuditWriterStatistics: Sendable, Equatable {
    /// Entries committed durably.
    public var entriesAppended: Int64 = 0
    /// Transactions that committed entries.
    public var groupsCommitted: Int64 = 0
    /// The largest number of entries committed in one transaction.
    public var largestGroup: Int = 0
    /// Transactions that failed; every entry in them failed.
    public var failedGroups: Int64 = 0
    /// Entries whose group failed.
    public var failedEntries: Int64 = 0
    /// Entries refused before queueing (queue full, writer closed, invalid entry).
    public var rejectedEntries: Int64 = 0
    /// Checkpoints signed and stored.
    public var checkpointsSigned: Int64 = 0
    /// Entries waiting for the writer right now.
    public var queueDepth: Int = 0

    public init() {}
}
