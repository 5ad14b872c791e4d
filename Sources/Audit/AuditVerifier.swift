public import Crypto
public import Store

/// Checks an audit database offline: every hash, link, position and checkpoint.
///
/// Pure over the connection it is given (open it read-only); it writes nothing and keeps
/// only the hashes at checkpoint sizes in memory, so a log of any length verifies in one pass.
///
/// What it detects, and where it points (`firstBad.seq`):
/// - an edited entry whose stored hash was left: `hashMismatch` at that entry;
/// - an edited entry whose own hash was recomputed: `prevHashMismatch` at the next entry;
/// - an edited entry with every following hash recomputed: the first checkpoint at or after
///   it stops matching (`checkpointMismatch` at its size, `suspectFrom` after the last good
///   checkpoint), or the anchor does (`anchorMismatch`);
/// - a deleted entry: `missingEntry` at its seq; an inserted or moved entry: `seqMismatch`
///   where the seq stored inside an entry disagrees with its row;
/// - a deleted tail that a stored checkpoint covers: `truncated` at the first missing seq;
/// - a deleted tail together with its checkpoints: only with an `anchor`, a checkpoint kept
///   outside the database (`anchorNotReached`).
/// Entries after the newest checkpoint are protected by the chain alone
/// (``VerificationReport/entriesAfterLastCheckpoint``).
public enum AuditVerifier {
    /// Verifies the audit log in `database` against `publicKey`.
    ///
    /// `keyName` is the signed-note key name checkpoints must be signed under; nil accepts the
    /// name each checkpoint's origin line gives (the signature must still verify under
    /// `publicKey`). `anchor` is a checkpoint's signed note obtained outside this database
    /// (a webhook, an export, a colleague's copy); the log must contain its size with its head.
    public static func verify(
        database: Database, publicKey: Ed25519PublicKey, keyName: String? = nil,
        anchor: String? = nil
    ) -> VerificationReport {
        var report = VerificationReport()
        var findings: [AuditVerificationFailure] = []
        let stored: [StoredCheckpoint]
        do {
            stored = try readCheckpoints(database)
        } catch {
            report.firstBad = unreadable(seq: 0, error)
            return report
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
        do {
            try scan.run(database)
        } catch {
            findings.append(unreadable(seq: scan.headSeq + 1, error))
        }
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
        // The earliest position wins; on a tie, the entry-level finding (listed first) is kept.
        report.firstBad =
            findings.enumerated().min { left, right in
                (left.element.seq, left.offset) < (right.element.seq, right.offset)
            }?.element
        return report
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

    private static func unreadable(seq: Int64, _ error: any Error) -> AuditVerificationFailure {
        let detail = (error as? StoreError)?.message ?? "unexpected \(type(of: error)) error"
        return AuditVerificationFailure(seq: seq, reason: .unreadable, message: detail)
    }
}
