import Store

/// One pass over `audit_log` in seq order that re-derives every hash.
///
/// It records the first entry that fails, keeps reading to count rows and find the head,
/// and keeps the stored hash at each size in `sizesOfInterest` (checkpoint and anchor sizes)
/// so that checkpoints can be compared afterwards without a second pass. `observer`, when set,
/// sees every entry decoded (nil for one that does not decode), so that the index can be
/// compared in the same pass.
final class ChainScan {
    private let sizesOfInterest: Set<Int64>
    var observer: ((Int64, AuditEntry?) -> Void)?
    /// Asked every 1,024 rows; true ends the pass early, with `interrupted` set.
    var shouldStop: () -> Bool = { false }
    private(set) var interrupted = false
    private(set) var rowsRead: Int64 = 0
    private(set) var headSeq: Int64 = 0
    private(set) var headHash = AuditChain.genesis
    private(set) var storedHashes: [Int64: [UInt8]] = [:]
    private(set) var firstFailure: AuditVerificationFailure?

    init(sizesOfInterest: Set<Int64>) {
        self.sizesOfInterest = sizesOfInterest
    }

    func run(_ database: Database) throws {
        let statement = try database.prepare(
            "SELECT seq, prev_hash, entry, hash FROM audit_log ORDER BY seq")
        defer { statement.reset() }
        var expected: Int64 = 1
        var previous = AuditChain.genesis
        while try statement.step() {
            if rowsRead & 1023 == 0, shouldStop() {
                interrupted = true
                return
            }
            let seq = statement.int64(at: 0)
            let storedPrevious = statement.blob(at: 1)
            let bytes = statement.blob(at: 2)
            let storedHash = statement.blob(at: 3)
            rowsRead += 1
            (headSeq, headHash) = (seq, storedHash)
            if sizesOfInterest.contains(seq) {
                storedHashes[seq] = storedHash
            }
            guard firstFailure == nil else {
                // try?: past the first failure an entry only feeds the index comparison, which
                // that failure outranks; one that does not decode leaves its block unchecked.
                observer?(seq, try? AuditCanonicalEncoder.decode(bytes))
                continue
            }
            let decoded = Result { () throws(AuditError) in try AuditCanonicalEncoder.decode(bytes) }
            let computed = AuditChain.hash(previous: previous, entry: bytes)
            firstFailure = check(
                seq: seq, expected: expected, previous: previous, storedPrevious: storedPrevious,
                bytes: bytes, decoded: decoded, computed: computed, storedHash: storedHash)
            // try?: the failure of an entry that does not decode is the one `check` reported.
            observer?(seq, try? decoded.get())
            previous = computed
            expected = seq + 1
        }
    }

    private func check(
        seq: Int64, expected: Int64, previous: [UInt8], storedPrevious: [UInt8],
        bytes: [UInt8], decoded: Result<AuditEntry, AuditError>, computed: [UInt8], storedHash: [UInt8]
    ) -> AuditVerificationFailure? {
        if seq < 1 {
            return AuditVerificationFailure(
                seq: seq, reason: .unexpectedEntry, message: "a row has a seq below 1")
        }
        if seq > expected {
            return AuditVerificationFailure(
                seq: expected, reason: .missingEntry,
                message: "entries \(expected) to \(seq - 1) are missing")
        }
        let entry: AuditEntry
        do {
            entry = try decoded.get()
        } catch {
            return AuditVerificationFailure(
                seq: seq, reason: .notCanonical,
                message: "the entry does not decode: \(error.message)")
        }
        // try?: an entry that cannot be re-encoded is as non-canonical as one that re-encodes
        // differently; both are reported below.
        guard (try? AuditCanonicalEncoder.encode(entry)) == bytes else {
            // A decoded entry that cannot be re-encoded is as non-canonical as one that
            // re-encodes to other bytes; the reason is the same either way.
            return AuditVerificationFailure(
                seq: seq, reason: .notCanonical, message: "the entry bytes are not canonical")
        }
        guard entry.seq == seq else {
            return AuditVerificationFailure(
                seq: seq, reason: .seqMismatch,
                message: "the row holds the entry written as \(entry.seq)")
        }
        guard storedPrevious == previous else {
            return AuditVerificationFailure(
                seq: seq, reason: .prevHashMismatch,
                message: "prev_hash differs from the hash of entry \(seq - 1)")
        }
        guard storedHash == computed else {
            return AuditVerificationFailure(
                seq: seq, reason: .hashMismatch,
                message: "the stored hash does not match the entry")
        }
        return nil
    }
}
