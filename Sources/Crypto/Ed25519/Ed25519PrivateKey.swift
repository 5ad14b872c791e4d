internal import COpenSSL

/// An Ed25519 signing key (RFC 8032), held by OpenSSL.
///
/// phigate signs audit checkpoints with one. The key is immutable and may be shared between
/// threads; each signature uses its own OpenSSL context.
///
/// The 32-byte seed is the whole secret. ``rawSeed`` and ``pemPKCS8()`` hand it out, so store
/// their results the way you would store the key (file mode 0600, never logged).
public final class Ed25519PrivateKey: Sendable {
    /// The OpenSSL key, private and public halves.
    private let key: PKey
    /// The matching verification key.
    public let publicKey: Ed25519PublicKey

    /// The byte length of a seed.
    public static let seedByteCount = 32

    /// A new key from a fresh seed drawn from OpenSSL's private random generator.
    public static func generate() throws(CryptoError) -> Ed25519PrivateKey {
        try Ed25519PrivateKey(rawSeed: SecureRandom.privateBytes(seedByteCount))
    }

    /// The key whose RFC 8032 private key (the seed) is `rawSeed`.
    ///
    /// - Throws: `invalidKey` unless `rawSeed` is exactly 32 bytes.
    public convenience init(rawSeed: [UInt8]) throws(CryptoError) {
        let operation = "Ed25519PrivateKey.init(rawSeed:)"
        guard rawSeed.count == Self.seedByteCount else {
            throw CryptoError(.invalidKey, "an Ed25519 seed is 32 bytes", operation: operation)
        }
        let created = rawSeed.withUnsafeBufferPointer { seed in
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed.baseAddress, seed.count)
        }
        guard let created else {
            throw CryptoError.drainingOpenSSLQueue(
                .invalidKey, "OpenSSL refused the Ed25519 seed", operation: operation)
        }
        try self.init(key: PKey(taking: created), operation: operation)
    }

    /// The key in a PKCS #8 PEM document (`-----BEGIN PRIVATE KEY-----`), as written by
    /// ``pemPKCS8()`` or `openssl genpkey -algorithm ed25519`.
    ///
    /// Only the first PEM block is read; text before it is skipped. Encrypted keys are refused
    /// rather than prompting for a passphrase.
    ///
    /// - Throws: `malformedInput` when no private key can be read, `invalidKey` when the key
    ///   is not Ed25519.
    public convenience init(pem: String) throws(CryptoError) {
        let operation = "Ed25519PrivateKey.init(pem:)"
        let bio = try MemoryBIO(readingFrom: Array(pem.utf8), operation: operation)
        let loaded = bio.withPointer { pointer in
            PEM_read_bio_PrivateKey(pointer, nil, refusePassphrase, nil)
        }
        guard let loaded else {
            throw CryptoError.drainingOpenSSLQueue(
                .malformedInput, "no readable private key in the PEM text", operation: operation)
        }
        let parsed = PKey(taking: loaded)
        guard parsed.withPointer({ EVP_PKEY_is_a($0, "ED25519") }) == 1 else {
            throw CryptoError(
                .invalidKey, "the PEM key is not an Ed25519 key", operation: operation)
        }
        // Rebuild from the seed, so the public half is always derived and never trusted
        // from the document.
        try self.init(rawSeed: Self.rawPrivateKey(of: parsed, operation: operation))
    }

    private init(key: PKey, operation: String) throws(CryptoError) {
        self.key = key
        self.publicKey = try Ed25519PublicKey(key: key, operation: operation)
    }

    /// The 32-byte seed: the whole secret.
    public var rawSeed: [UInt8] {
        do {
            return try Self.rawPrivateKey(of: key, operation: "Ed25519PrivateKey.rawSeed")
        } catch {
            // A key built by this type always has a raw private form; failing to read it back
            // means OpenSSL itself is broken.
            fatalError("\(error)")
        }
    }

    /// The 64-byte Ed25519 signature of `message` (deterministic, per RFC 8032).
    ///
    /// - Throws: `libraryFailure` if OpenSSL cannot sign (allocation failure).
    public func sign(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        let operation = "Ed25519PrivateKey.sign"
        let context = DigestContext()
        var signature = [UInt8](repeating: 0, count: Ed25519PublicKey.signatureByteCount)
        var length = signature.count
        let status = context.withPointer { ctx in
            key.withPointer { pkey -> Int32 in
                guard EVP_DigestSignInit(ctx, nil, nil, nil, pkey) == 1 else { return 0 }
                return withNonNullBytes(message) { input, count in
                    signature.withUnsafeMutableBufferPointer { out in
                        EVP_DigestSign(ctx, out.baseAddress, &length, input, count)
                    }
                }
            }
        }
        guard status == 1, length == Ed25519PublicKey.signatureByteCount else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "Ed25519 signing failed", operation: operation)
        }
        return signature
    }

    /// The key as an unencrypted PKCS #8 PEM document, readable by ``init(pem:)`` and by
    /// `openssl pkey`. The result is the secret itself.
    public func pemPKCS8() throws(CryptoError) -> String {
        let operation = "Ed25519PrivateKey.pemPKCS8"
        let bio = try MemoryBIO(operation: operation)
        let status = bio.withPointer { out in
            key.withPointer { pkey in
                PEM_write_bio_PrivateKey(out, pkey, nil, nil, 0, nil, nil)
            }
        }
        guard status == 1 else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "cannot write the private key as PEM", operation: operation)
        }
        return String(decoding: bio.readAll(), as: UTF8.self)
    }

    /// The raw private key bytes of an Ed25519 `EVP_PKEY`.
    private static func rawPrivateKey(
        of key: PKey, operation: String
    ) throws(CryptoError) -> [UInt8] {
        var seed = [UInt8](repeating: 0, count: seedByteCount)
        var length = seed.count
        let status = key.withPointer { pkey in
            seed.withUnsafeMutableBufferPointer { out in
                EVP_PKEY_get_raw_private_key(pkey, out.baseAddress, &length)
            }
        }
        guard status == 1, length == seedByteCount else {
            throw CryptoError.drainingOpenSSLQueue(
                .invalidKey, "cannot read the raw Ed25519 private key", operation: operation)
        }
        return seed
    }
}

/// A PEM passphrase callback that always fails, so that OpenSSL never falls back to prompting
/// on the controlling terminal when it meets an encrypted key.
let refusePassphrase:
    @convention(c) (
        UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?
    ) -> Int32 = { _, _, _, _ in -1 }
