import Crypto

/// The hash chain that links audit entries: its byte layout, in one place.
///
/// For the entry at position `seq` (from 1), with `entry` its canonical bytes
/// (``AuditCanonicalEncoder``):
///
///     prev_hash(1)   = 32 zero bytes                       (the genesis value)
///     prev_hash(seq) = hash(seq - 1)
///     hash(seq)      = SHA-256( "phigate-audit-v1\n"        17 bytes, ASCII, with the newline
///                               || prev_hash(seq)           32 bytes
///                               || entry )                  the canonical bytes, to the end
///
/// The fixed-length prefix and previous hash make the split unambiguous, and the domain tag
/// keeps these hashes from being mistaken for any other SHA-256 phigate computes. `seq` itself
/// is inside `entry`, so moving an entry to another position changes its bytes.
///
/// The chain head at size n is hash(n). Checkpoints sign that head: it is the head of a linear
/// hash chain, not an RFC 6962 Merkle tree root, so a verifier checks a checkpoint by
/// recomputing the chain from entry 1 to n, not with inclusion or consistency proofs.
public enum AuditChain {
    /// The domain-separation prefix of every entry hash.
    public static let domainTag: [UInt8] = Array("phigate-audit-v1\n".utf8)
    /// The previous hash of entry 1.
    public static let genesis = [UInt8](repeating: 0, count: SHA256.byteCount)

    /// hash(seq) from the previous hash and the entry's canonical bytes.
    ///
    /// - Precondition: `previous` is 32 bytes.
    public static func hash(previous: [UInt8], entry: [UInt8]) -> [UInt8] {
        precondition(previous.count == SHA256.byteCount, "a chain hash is 32 bytes")
        var hasher = SHA256Hasher()
        hasher.update(domainTag)
        hasher.update(previous)
        hasher.update(entry)
        return hasher.finalize()
    }
}
