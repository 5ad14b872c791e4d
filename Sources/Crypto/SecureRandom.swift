internal import COpenSSL

/// Random bytes from OpenSSL's CSPRNG, the only source of randomness phigate uses.
///
/// OpenSSL seeds its generator from the operating system and reseeds it periodically and after
/// `fork`. If it cannot produce output the process cannot issue tokens, salts or keys safely,
/// so these functions stop the process instead of returning weak bytes or an error that a
/// caller might ignore.
public enum SecureRandom {
    /// `count` random bytes from `RAND_bytes`, for salts, nonces, tokens and identifiers.
    public static func bytes(_ count: Int) -> [UInt8] {
        fill(count, using: RAND_bytes, operation: "SecureRandom.bytes")
    }

    /// A random bearer token: `byteCount` random bytes in unpadded base64url, which is safe in
    /// URLs, headers and JSON without escaping. 32 bytes (the default) gives 256 bits.
    ///
    /// - Precondition: `byteCount` is at least 16 (128 bits); a shorter token is a bug.
    public static func token(byteCount: Int = 32) -> String {
        precondition(byteCount >= 16, "a token needs at least 128 bits")
        return Base64URL.encode(bytes(byteCount))
    }

    /// `count` random bytes from `RAND_priv_bytes`, the generator OpenSSL keeps apart from the
    /// public one for long-term secrets (private keys), so that a disclosed nonce reveals
    /// nothing about the state that produced a key.
    static func privateBytes(_ count: Int) -> [UInt8] {
        fill(count, using: RAND_priv_bytes, operation: "SecureRandom.privateBytes")
    }

    private static func fill(
        _ count: Int,
        using generator: (UnsafeMutablePointer<UInt8>?, Int32) -> Int32,
        operation: String
    ) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "random byte count out of range")
        guard count > 0 else { return [] }
        var output = [UInt8](repeating: 0, count: count)
        let status = output.withUnsafeMutableBufferPointer { buffer in
            generator(buffer.baseAddress, Int32(count))
        }
        guard status == 1 else {
            let error = CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "the random generator failed", operation: operation)
            fatalError("\(error)")
        }
        return output
    }
}
