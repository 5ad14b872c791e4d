public import Crypto
public import Store

/// Checks an audit database offline: every hash, link, position and checkpoint, the checkpoint
/// schedule, and the query index against the entries.
///
/// Pure over the connection it is given (open it read-only); it writes nothing and reads in
/// one transaction, so a live log is checked as one snapshot. It keeps only the hashes at
/// checkpoint sizes and one index block's terms in memory, so a log of any length verifies in
/// one pass.
///
/// What it detects, and where it points (`firstBad.seq`):
/// - an edited entry whose stored hash was left: `hashMismatch` at that entry;
/// - an edited entry whose own hash was recomputed: `prevHashMismatch` at the next entry;
/// - an edited entry with every following hash recomputed: the first checkpoint at or after
///   it stops matching (`checkpointMismatch` at its size, `suspectFrom` after the last good
///   checkpoint), or the anchor does (`anchorMismatch`);
/// - the same with the checkpoints after it deleted: `checkpointEvery` or more entries after
///   the newest checkpoint (`unsignedTail`), or two checkpoints further apart than that
///   (`checkpointGap`, when the writer has signed a new one since): the writer signs one
///   every `checkpointEvery` entries inside the transaction that adds them, so it never leaves
///   either, not even after a crash;
/// - a deleted entry: `missingEntry` at its seq; an inserted or moved entry: `seqMismatch`
///   where the seq stored inside an entry disagrees with its row;
/// - a deleted tail that a stored checkpoint covers: `truncated` at the first missing seq;
/// - a deleted tail together with its checkpoints, fewer than `checkpointEvery` entries
///   after the newest checkpoint left: only with an `anchor`, a checkpoint kept outside the
///   database (`anchorNotReached`);
/// - an index that does not describe the log (block rows out of place, or terms or times that
///   differ from the block's entries): `indexMismatch` at the block's first seq. The entries
///   are intact then, so it is reported only when nothing else is (``VerificationReport/indexFailure``
///   keeps it either way).
/// Entries after the newest checkpoint are protected by the chain alone
/// (``VerificationReport/entriesAfterLastCheckpoint``).
public enum AuditVerifier {
    /// Verifies the audit log in `database` against `publicKey`.
    ///
    /// `keyName` is the signed-note key name checkpoints must be signed under; nil accepts the
    /// name each checkpoint's origin line gives (the signature must still verify under
    /// `publicKey`). `anchor` is a checkpoint's signed note obtained outside this database
    /// (a webhook, an export, a colleague's copy); the log must contain its size with its head.
    /// `checkpointEvery` is the writer's `checkpointEvery` (at least 1): the most entries it
    /// adds between two checkpoints. `indexBlockSize` is the most entries an index block may
    /// cover (the writer's `indexBatchSize`). `shouldStop` is asked now and then during the
    /// pass over the entries; once it answers true the check ends, `interrupted`, with no
    /// finding.
    public static func verify(
        database: Database, publicKey: Ed25519PublicKey, keyName: String? = nil,
        anchor: String? = nil, checkpointEvery: Int64,
        indexBlockSize: Int = AuditWriterConfiguration.defaultIndexBatchSize,
        shouldStop: @escaping () -> Bool = { false }
    ) -> VerificationReport {
        precondition(checkpointEvery >= 1, "a writer signs a checkpoint every 1 or more entries")
        var report = VerificationReport()
        report.checkpointEvery = checkpointEvery
        do {
            try database.readTransaction {
                check(
                    database, publicKey: publicKey, keyName: keyName, anchor: anchor,
                    indexBlockSize: Int64(max(1, indexBlockSize)), shouldStop: shouldStop, into: &report)
            }
        } catch {
            // Only beginning or ending the read transaction throws; what was found stands.
            report.firstBad = report.firstBad ?? unreadable(seq: 0, error)
        }
        return report
    }

    private static func check(
        _ database: Database, publicKey: Ed25519PublicKey, keyName: String?, anchor: String?,
        indexBlockSize: Int64, shouldStop: @escaping () -> Bool, into report: inout VerificationReport
    ) {
        var findings: [AuditVerificationFailure] = []
        let stored: [StoredCheckpoint]
        do {
            stored = try readCheckpoints(database)
        } catch {
            report.firstBad = unreadable(seq: 0, error)
            return
        }
        var anchorCheckpoint: Checkpoint?
        if let anchor {
            report.anchorChecked = true
            do {
                anchorCheckpoint = try Checkpoint.parse(
                    signedNote: SignedNote.normalizingLineEnds(anchor), publicKey: publicKey,
                    keyName: keyName)
            } catch {
                findings.append(anchorFailure(error))
            }
        }
        var sizes = Set(stored.map(\.size))
        if let anchorCheckpoint {
            sizes.insert(anchorCheckpoint.size)
        }
        let scan = ChainScan(sizesOfInterest: sizes)
        scan.shouldStop = shouldStop
        var index: IndexCheck?
        var indexFault: AuditIndexFault?
        do {
            let head = try database.scalar("SELECT coalesce(max(seq), 0) FROM audit_log") ?? 0
            index = try IndexCheck.open(database, head: head, maximumBlockSize: indexBlockSize)
        } catch {
            indexFault = AuditIndexFault(
                block: 0, kind: .unreadable, message: "the index cannot be read: " + readFailure(error))
        }
        if let index {
            scan.observer = { seq, entry in index.add(seq: seq, entry: entry) }
        }
        do {
            try scan.run(database)
        } catch {
            findings.append(unreadable(seq: scan.headSeq + 1, error))
        }
        guard !scan.interrupted else {
            report.interrupted = true
            return
        }
        index?.finish()
        report.entriesChecked = scan.rowsRead
        report.headSeq = scan.headSeq
        report.headHash = scan.headHash
        if let failure = scan.firstFailure {
            findings.append(failure)
        }
        findings += checkStored(stored, scan: scan, publicKey: publicKey, keyName: keyName)
        report.checkpointsChecked = stored.count
        report.latestCheckpointSize = stored.map(\.size).max() ?? 0
        if let anchorCheckpoint {
            findings += check(anchor: anchorCheckpoint, scan: scan, stored: stored)
        }
        findings += checkSchedule(
            stored.map(\.size), head: scan.headSeq, checkpointEvery: report.checkpointEvery)
        report.indexChecked = index != nil
        report.indexBlocksChecked = index?.blocksChecked ?? 0
        report.indexFailure = (indexFault ?? index?.fault).map(indexFailure)
        // The earliest position wins; on a tie, the entry-level finding (listed first) is kept.
        // The index is derived data: its finding counts only when the evidence verifies.
        report.firstBad =
            findings.enumerated().min { left, right in
                (left.element.seq, left.offset) < (right.element.seq, right.offset)
            }?.element ?? report.indexFailure
    }

    /// One row of `audit_checkpoints`, as stored.
    struct StoredCheckpoint {
        let size: Int64
        let headHash: [UInt8]
        let signedNote: String
        let signedAt: Int64
    }

    private static func readCheckpoints(_ database: Database) throws -> [StoredCheckpoint] {
        try database.query(
            "SELECT size, head_hash, signed_note, signed_at FROM audit_checkpoints ORDER BY size"
        ) { row in
            StoredCheckpoint(
                size: row.int64(at: 0), headHash: row.blob(at: 1),
                signedNote: row.text(at: 2) ?? "", signedAt: row.int64(at: 3))
        }
    }

    /// What a rejected anchor is reported as: malformed, or not signed by the audit key.
    private static func anchorFailure(_ error: AuditError) -> AuditVerificationFailure {
        switch error.code {
        case .malformedNote:
            AuditVerificationFailure(
                seq: 0, reason: .anchorMalformed, message: "the anchor is not a signed note")
        case .malformedCheckpoint:
            AuditVerificationFailure(
                seq: 0, reason: .anchorMalformed,
                message: "the anchor is a signed note but not a checkpoint")
        default:
            AuditVerificationFailure(
                seq: 0, reason: .anchorInvalid,
                message: "the anchor is not a checkpoint signed by the audit key")
        }
    }

    private static func checkStored(
        _ stored: [StoredCheckpoint], scan: ChainScan, publicKey: Ed25519PublicKey,
        keyName: String?
    ) -> [AuditVerificationFailure] {
        var lastGood: Int64 = 0
        for row in stored {
            let parsed: Checkpoint
            do {
                parsed = try Checkpoint.parse(
                    signedNote: row.signedNote, publicKey: publicKey, keyName: keyName)
            } catch {
                let reason: AuditVerificationFailure.Reason =
                    error.code == .badSignature || error.code == .malformedNote
                    ? .checkpointSignature : .checkpointMismatch
                return [
                    AuditVerificationFailure(
                        seq: row.size, reason: reason, suspectFrom: lastGood + 1,
                        message: "checkpoint \(row.size): \(error.message)")
                ]
            }
            guard parsed.size == row.size, parsed.headHash == row.headHash,
                parsed.signedAt == row.signedAt
            else {
                return [
                    AuditVerificationFailure(
                        seq: row.size, reason: .checkpointMismatch, suspectFrom: lastGood + 1,
                        message: "checkpoint \(row.size): stored columns differ from its text")
                ]
            }
            let failure = compare(
                parsed, with: scan, lastGood: lastGood, reason: .checkpointMismatch)
            if let failure {
                return [failure]
            }
            lastGood = row.size
        }
        return []
    }

    private static func check(
        anchor: Checkpoint, scan: ChainScan, stored: [StoredCheckpoint]
    ) -> [AuditVerificationFailure] {
        guard anchor.size <= scan.headSeq else {
            return [
                AuditVerificationFailure(
                    seq: scan.headSeq + 1, reason: .anchorNotReached,
                    message: "the anchor signs \(anchor.size) entries; the log has \(scan.headSeq)")
            ]
        }
        let lastGood = stored.map(\.size).filter { $0 < anchor.size }.max() ?? 0
        let failure = compare(anchor, with: scan, lastGood: lastGood, reason: .anchorMismatch)
        return failure.map { [$0] } ?? []
    }

    /// A finding when the chain does not reach `checkpoint.size` or has another head there.
    private static func compare(
        _ checkpoint: Checkpoint, with scan: ChainScan, lastGood: Int64,
        reason: AuditVerificationFailure.Reason
    ) -> AuditVerificationFailure? {
        guard checkpoint.size <= scan.headSeq else {
            return AuditVerificationFailure(
                seq: scan.headSeq + 1, reason: .truncated,
                message: "a checkpoint signs \(checkpoint.size) entries; "
                    + "the log ends at \(scan.headSeq)")
        }
        let head = checkpoint.size == 0 ? AuditChain.genesis : scan.storedHashes[checkpoint.size]
        guard head == checkpoint.headHash else {
            return AuditVerificationFailure(
                seq: checkpoint.size, reason: reason, suspectFrom: lastGood + 1,
                message: "the chain head at \(checkpoint.size) differs from the signed head; "
                    + "entries after \(lastGood) were rewritten or reordered")
        }
        return nil
    }

    /// Findings when stored checkpoints (`sizes`, ascending) are further apart, or the newest is
    /// further behind the head, than a writer that signs every `checkpointEvery` entries leaves
    /// them. The finding points at the size a checkpoint should have signed.
    static func checkSchedule(_ sizes: [Int64], head: Int64, checkpointEvery every: Int64)
        -> [AuditVerificationFailure]
    {
        var previous: Int64 = 0
        for size in sizes {
            if size - previous > every {
                return [
                    AuditVerificationFailure(
                        seq: previous + every, reason: .checkpointGap, suspectFrom: previous + 1,
                        message: "no checkpoint between \(previous) and \(size); "
                            + "the writer signs one every \(every) entries")
                ]
            }
            previous = size
        }
        guard head - previous >= every else {
            return []
        }
        return [
            AuditVerificationFailure(
                seq: previous + every, reason: .unsignedTail, suspectFrom: previous + 1,
                message: "\(head - previous) entries follow the newest checkpoint (\(previous)); "
                    + "the writer signs one every \(every) entries")
        ]
    }

    private static func indexFailure(_ fault: AuditIndexFault) -> AuditVerificationFailure {
        AuditVerificationFailure(
            seq: fault.block, reason: .indexMismatch,
            message: "the query index does not match the log (\(fault.kind)): \(fault.message)")
    }

    private static func unreadable(seq: Int64, _ error: any Error) -> AuditVerificationFailure {
        AuditVerificationFailure(seq: seq, reason: .unreadable, message: readFailure(error))
    }

    /// What a failed read reports: SQLite's message, or the kind of an unexpected error.
    static func readFailure(_ error: any Error) -> String {
        (error as? StoreError)?.message ?? "unexpected \(type(of: error)) error"
    }
}
