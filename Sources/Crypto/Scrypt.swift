internal import COpenSSL

/// The scrypt memory-hard key-derivation function (RFC 7914), computed by OpenSSL's
/// `EVP_KDF` "SCRYPT".
///
/// For passwords, use ``PasswordHash``, which picks the salt and the cost and encodes them.
public enum Scrypt {
    /// The working memory scrypt needs for the given cost, in bytes: 128·r·N for the large
    /// array V plus 128·r·p for the block array B, as OpenSSL counts it (rounded up slightly).
    /// Nil when the product does not fit in 64 bits.
    public static func memoryRequired(n: UInt64, r: UInt32, p: UInt32) -> UInt64? {
        let blockSize = 128 * UInt64(r)  // Cannot overflow: r is 32 bits.
        let (blocks, o1) = n.addingReportingOverflow(2)
        let (vSize, o2) = blockSize.multipliedReportingOverflow(by: blocks)
        let (bSize, o3) = blockSize.multipliedReportingOverflow(by: UInt64(p))
        let (total, o4) = vSize.addingReportingOverflow(bSize)
        return o1 || o2 || o3 || o4 ? nil : total
    }

    /// The `length` bytes scrypt derives from `password` and `salt` with cost N = `n`,
    /// block size `r` and parallelism `p`.
    ///
    /// `maxMemory` caps the working memory (see ``memoryRequired(n:r:p:)``); the default,
    /// 256 MiB, admits N = 2^17 with r = 8. The call runs on the calling thread and takes time
    /// proportional to N·r·p: for N = 2^15, r = 8 that is tens of milliseconds, so do not run
    /// it on a queue that must stay responsive.
    ///
    /// - Throws: `invalidParameter` when `n` is not a power of two greater than 1, `r` or `p`
    ///   is zero, r·p ≥ 2^30, `length` is not in 1...1024, or the memory needed exceeds
    ///   `maxMemory`; `libraryFailure` when OpenSSL fails.
    public static func derive(
        password: [UInt8], salt: [UInt8], n: UInt64, r: UInt32, p: UInt32, length: Int,
        maxMemory: UInt64 = 256 << 20
    ) throws(CryptoError) -> [UInt8] {
        let operation = "Scrypt.derive"
        guard n > 1, n & (n - 1) == 0 else {
            throw CryptoError(
                .invalidParameter, "N must be a power of two above 1",
                operation: operation)
        }
        guard r > 0, p > 0, UInt64(r) * UInt64(p) < 1 << 30 else {
            throw CryptoError(
                .invalidParameter, "r and p must be positive with r·p < 2^30",
                operation: operation)
        }
        guard (1...1024).contains(length) else {
            throw CryptoError(
                .invalidParameter, "the output length must be 1...1024 bytes",
                operation: operation)
        }
        guard let memory = memoryRequired(n: n, r: r, p: p), memory <= maxMemory else {
            throw CryptoError(
                .invalidParameter, "the cost needs more memory than allowed",
                operation: operation)
        }

        let context = try KDFContext(algorithm: "SCRYPT", operation: operation)
        var output = [UInt8](repeating: 0, count: length)
        let status = context.withPointer { kdf in
            withNonNullBytes(password) { passwordPointer, passwordCount in
                withNonNullBytes(salt) { saltPointer, saltCount in
                    output.withUnsafeMutableBufferPointer { out in
                        phigate_scrypt_derive(
                            kdf, passwordPointer, passwordCount, saltPointer, saltCount,
                            n, r, p, maxMemory, out.baseAddress, out.count)
                    }
                }
            }
        }
        guard status == 1 else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "scrypt derivation failed", operation: operation)
        }
        return output
    }
}
