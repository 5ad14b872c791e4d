/// What ``AuditVerifier`` found in one audit database.
public struct VerificationReport: Sendable, Equatable {
    /// True when every entry, every checkpoint and the anchor (if given) verified.
    public var ok: Bool { firstBad == nil && !interrupted }
    /// Rows of `audit_log` read.
    public var entriesChecked: Int64 = 0
    /// Rows of `audit_checkpoints` read.
    public var checkpointsChecked: Int = 0
    /// The earliest problem found, by position; nil when none.
    public var firstBad: AuditVerificationFailure?
    /// The seq of the last stored entry (0 for an empty log).
    public var headSeq: Int64 = 0
    /// The stored hash of the last entry (32 zero bytes for an empty log).
    public var headHash: [UInt8] = AuditChain.genesis
    /// The largest size a stored checkpoint signs (0 when there is none).
    public var latestCheckpointSize: Int64 = 0
    /// True when the caller stopped the check before it was done (a gateway shutting down):
    /// nothing was found, and nothing was shown either.
    public var interrupted = false
    /// True when an anchor checkpoint was given and checked.
    public var anchorChecked = false
    /// The most entries the writer adds between two checkpoints, as the verifier was told.
    public var checkpointEvery: Int64 = 0
    /// True when the log has a query index to compare (a log from before the block index has
    /// none; its queries read every entry).
    public var indexChecked = false
    /// Index blocks whose terms and times were compared with their entries.
    public var indexBlocksChecked = 0
    /// The first place where the query index does not describe the log, whether or not an
    /// earlier finding about the entries outranks it in `firstBad`.
    public var indexFailure: AuditVerificationFailure?

    /// Entries after the newest checkpoint. Only the chain protects them: someone with the
    /// file could delete or rewrite them without a trace until the next checkpoint is signed.
    public var entriesAfterLastCheckpoint: Int64 {
        max(0, headSeq - latestCheckpointSize)
    }

    public init() {}
}

/// One verification failure: where, and what kind.
public struct AuditVerificationFailure: Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, as an extensible set of named values.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        /// The entry bytes do not decode, or are not in canonical form.
        public static let notCanonical = Reason("not_canonical")
        /// The seq inside the entry differs from the row's position (moved or inserted rows).
        public static let seqMismatch = Reason("seq_mismatch")
        /// No row holds this seq although later ones exist (a deleted row).
        public static let missingEntry = Reason("missing_entry")
        /// A row with a seq below 1, which the writer never produces.
        public static let unexpectedEntry = Reason("unexpected_entry")
        /// The stored previous hash is not the hash of the entry before (a rewritten
        /// predecessor whose hash was recomputed, or a rewritten link).
        public static let prevHashMismatch = Reason("prev_hash_mismatch")
        /// The stored hash is not SHA-256 of the previous hash and the entry (an edited entry).
        public static let hashMismatch = Reason("hash_mismatch")
        /// A stored checkpoint's signature does not verify under the public key.
        public static let checkpointSignature = Reason("checkpoint_signature")
        /// A stored checkpoint names a head that differs from the chain at its size, or its
        /// columns differ from its signed text.
        public static let checkpointMismatch = Reason("checkpoint_mismatch")
        /// The log is shorter than a stored checkpoint says it was (a deleted tail).
        public static let truncated = Reason("truncated")
        /// The anchor given from outside is a signed note without a valid signature from the key.
        public static let anchorInvalid = Reason("anchor_invalid")
        /// The anchor given from outside is not a signed note, or its signed text is not a
        /// checkpoint.
        public static let anchorMalformed = Reason("anchor_malformed")
        /// The log is shorter than the anchor's size (a tail deleted with its checkpoints).
        public static let anchorNotReached = Reason("anchor_not_reached")
        /// The chain at the anchor's size has another head (the log was rewritten).
        public static let anchorMismatch = Reason("anchor_mismatch")
        /// `checkpointEvery` or more entries follow the newest checkpoint, which the writer
        /// never leaves: checkpoints were deleted (with entries rewritten, perhaps).
        public static let unsignedTail = Reason("unsigned_tail")
        /// Two stored checkpoints are more than `checkpointEvery` entries apart: checkpoints
        /// in between were deleted.
        public static let checkpointGap = Reason("checkpoint_gap")
        /// The query index does not describe the entries (a block row out of place, or terms
        /// or times that differ from the block's entries), so compliance queries could miss
        /// entries. The entries themselves verified.
        public static let indexMismatch = Reason("index_mismatch")
        /// The database could not be read.
        public static let unreadable = Reason("unreadable")
    }

    /// The position named: the first entry that does not verify, the size of the checkpoint
    /// that does not match or is missing, the first missing seq of a truncated log, or the
    /// first seq of an index block that does not match.
    public let seq: Int64
    /// What kind of failure.
    public let reason: Reason
    /// The earliest seq that may have been tampered with. Equal to `seq` for entry-level
    /// findings; for a checkpoint that no longer matches a chain that is otherwise
    /// consistent (hashes recomputed), it is one past the last checkpoint that still matches.
    public let suspectFrom: Int64
    /// A message naming positions only, never entry contents.
    public let message: String

    public init(seq: Int64, reason: Reason, suspectFrom: Int64? = nil, message: String) {
        self.seq = seq
        self.reason = reason
        self.suspectFrom = suspectFrom ?? seq
        self.message = message
    }

    public var description: String {
        "entry \(seq): \(reason): \(message)"
    }
}
