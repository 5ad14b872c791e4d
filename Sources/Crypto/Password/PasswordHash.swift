import Foundation

/// Password storage with scrypt, in a self-describing string modelled on the PHC format:
///
///     $scrypt$ln=15,r=8,p=1$<salt>$<hash>
///
/// `ln` is log2 of scrypt's N; salt (16 random bytes) and hash (32 bytes) are standard base64
/// without padding. The string carries its own cost, so stored hashes keep verifying after the
/// policy changes; ``needsRehash(_:cost:)`` tells the caller when to replace one at the next
/// successful login.
///
/// Passwords are normalized to Unicode NFKC before hashing, as NIST SP 800-63B recommends, so
/// that the same password typed on different keyboards or systems (composed or decomposed
/// accents, full-width letters) gives the same hash. No other change is made: no trimming, no
/// case folding.
public enum PasswordHash {
    /// The identifier in the second field of the string.
    static let algorithm = "scrypt"
    /// Salt length for new hashes.
    static let saltByteCount = 16
    /// Hash length for new hashes.
    static let hashByteCount = 32
    /// Lengths accepted when parsing, so that hashes made with other reasonable choices verify.
    /// A shorter scrypt output is a prefix of a longer one, so the hash length has a floor of
    /// 32 bytes: below it a truncated string would still verify, with less strength.
    static let acceptedSaltLengths = 8...64
    static let acceptedHashLengths = 32...64

    /// The encoded hash of `password` with a fresh random salt.
    ///
    /// Takes tens of milliseconds at the standard cost; run it off any latency-sensitive queue.
    ///
    /// - Throws: `libraryFailure` if OpenSSL cannot derive the hash.
    public static func hash(_ password: String, cost: Cost = .standard) throws(CryptoError)
        -> String
    {
        let salt = SecureRandom.bytes(saltByteCount)
        let derived = try derive(password, salt: salt, cost: cost, length: hashByteCount)
        return Encoded(cost: cost, salt: salt, hash: derived).text
    }

    /// Whether `password` matches the encoded hash.
    ///
    /// The derived hash is compared in constant time. A malformed or out-of-bounds `encoded`
    /// string is `false`, never a crash or a thrown error, so that a corrupted record cannot be
    /// told apart from a wrong password by the caller's response.
    public static func verify(_ password: String, against encoded: String) -> Bool {
        guard let stored = Encoded(parsing: encoded) else { return false }
        do {
            let derived = try derive(
                password, salt: stored.salt, cost: stored.cost, length: stored.hash.count)
            return constantTimeEquals(derived, stored.hash)
        } catch {
            // Parsing already bounded the cost, so this is an OpenSSL failure; a password that
            // cannot be checked is not accepted.
            return false
        }
    }

    /// Whether `encoded` should be replaced by a new hash at `cost`: it is malformed, or its
    /// cost, salt length or hash length differ from what ``hash(_:cost:)`` makes today.
    public static func needsRehash(_ encoded: String, cost: Cost = .standard) -> Bool {
        guard let stored = Encoded(parsing: encoded) else { return true }
        return stored.cost != cost || stored.salt.count != saltByteCount
            || stored.hash.count != hashByteCount
    }

    private static func derive(
        _ password: String, salt: [UInt8], cost: Cost, length: Int
    ) throws(CryptoError) -> [UInt8] {
        let normalized = Array(password.precomposedStringWithCompatibilityMapping.utf8)
        return try Scrypt.derive(
            password: normalized, salt: salt, n: UInt64(1) << UInt64(cost.logN),
            r: UInt32(cost.r), p: UInt32(cost.p), length: length, maxMemory: Cost.maxMemory)
    }
}
