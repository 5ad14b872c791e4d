internal import COpenSSL

/// An incremental SHA-256 computation, for data that arrives in pieces.
///
/// A value type with copy-on-write state: copying a hasher and updating both copies gives two
/// independent digests. Not `Sendable`; use one hasher per task.
///
/// ```swift
/// var hasher = SHA256Hasher()
/// hasher.update(previousHash)
/// hasher.update(canonicalEntry)
/// let entryHash = hasher.finalize()
/// ```
public struct SHA256Hasher {
    /// The running digest state, shared between copies until one of them writes.
    private var context: DigestContext

    /// A hasher in the initial state, as if no bytes had been given.
    public init() {
        context = DigestContext()
        Self.start(context)
    }

    /// Feeds `bytes` into the digest.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        uniqueContext().withPointer { pointer in
            Self.check(EVP_DigestUpdate(pointer, bytes.baseAddress, bytes.count), "update")
        }
    }

    /// Feeds `bytes` into the digest.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Returns the digest of everything fed so far and resets the hasher to its initial state,
    /// so that the same value can hash the next message.
    public mutating func finalize() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: SHA256.byteCount)
        var size: UInt32 = 0
        let active = uniqueContext()
        active.withPointer { pointer in
            let status = output.withUnsafeMutableBytes { out in
                EVP_DigestFinal_ex(
                    pointer, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &size)
            }
            Self.check(status, "finalize")
        }
        Self.start(active)
        return output
    }

    /// The context, copied first if another hasher value still shares it.
    private mutating func uniqueContext() -> DigestContext {
        if !isKnownUniquelyReferenced(&context) {
            context = context.copy()
        }
        return context
    }

    /// Puts `context` into the initial SHA-256 state.
    private static func start(_ context: DigestContext) {
        MessageDigest.sha256.withPointer { digest in
            context.withPointer { pointer in
                check(EVP_DigestInit_ex2(pointer, digest, nil), "init")
            }
        }
    }

    /// Stops the process when OpenSSL fails a step that has no failure mode of its own.
    ///
    /// With a fetched SHA-256 and a live context these calls fail only on allocation failure,
    /// which the process treats like a Swift allocation failure.
    private static func check(_ status: Int32, _ step: String) {
        guard status == 1 else {
            let error = CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "SHA-256 \(step) failed", operation: "SHA256Hasher.\(step)")
            fatalError("\(error)")
        }
    }
}
