internal import COpenSSL

/// An Ed25519 verification key (RFC 8032): 32 bytes, shareable and safe to publish.
///
/// `phigate audit verify` checks checkpoint signatures with one. Two keys are equal when their
/// raw bytes are equal.
public struct Ed25519PublicKey: Sendable, Hashable {
    /// The byte length of a raw public key.
    public static let byteCount = 32
    /// The byte length of a signature.
    public static let signatureByteCount = 64

    /// The 32-byte encoded public key of RFC 8032 section 5.1.5.
    public let raw: [UInt8]
    /// The same key loaded into OpenSSL, kept so verification does not reload it.
    private let key: PKey

    /// The key whose RFC 8032 encoding is `raw`.
    ///
    /// - Throws: `invalidKey` unless `raw` is 32 bytes OpenSSL accepts.
    public init(raw: [UInt8]) throws(CryptoError) {
        let operation = "Ed25519PublicKey.init(raw:)"
        guard raw.count == Self.byteCount else {
            throw CryptoError(
                .invalidKey, "an Ed25519 public key is 32 bytes", operation: operation)
        }
        let created = raw.withUnsafeBufferPointer { bytes in
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, bytes.baseAddress, bytes.count)
        }
        guard let created else {
            throw CryptoError.drainingOpenSSLQueue(
                .invalidKey, "OpenSSL refused the Ed25519 public key", operation: operation)
        }
        self.raw = raw
        self.key = PKey(taking: created)
    }

    /// The public half of an Ed25519 key pair already loaded into OpenSSL.
    init(key pair: PKey, operation: String) throws(CryptoError) {
        var bytes = [UInt8](repeating: 0, count: Self.byteCount)
        var length = bytes.count
        let status = pair.withPointer { pkey in
            bytes.withUnsafeMutableBufferPointer { out in
                EVP_PKEY_get_raw_public_key(pkey, out.baseAddress, &length)
            }
        }
        guard status == 1, length == Self.byteCount else {
            throw CryptoError.drainingOpenSSLQueue(
                .invalidKey, "cannot read the raw Ed25519 public key", operation: operation)
        }
        try self.init(raw: bytes)
    }

    /// A key from a PEM `-----BEGIN PUBLIC KEY-----` document (SubjectPublicKeyInfo), as
    /// written by ``pem()`` or `openssl pkey -pubout`. Only the first PEM block is read.
    ///
    /// - Throws: `malformedInput` when no public key can be read, `invalidKey` when the key
    ///   is not Ed25519.
    public init(pem: String) throws(CryptoError) {
        let operation = "Ed25519PublicKey.init(pem:)"
        let bio = try MemoryBIO(readingFrom: Array(pem.utf8), operation: operation)
        let loaded = bio.withPointer { pointer in
            PEM_read_bio_PUBKEY(pointer, nil, refusePassphrase, nil)
        }
        guard let loaded else {
            throw CryptoError.drainingOpenSSLQueue(
                .malformedInput, "no readable public key in the PEM text", operation: operation)
        }
        let parsed = PKey(taking: loaded)
        guard parsed.withPointer({ EVP_PKEY_is_a($0, "ED25519") }) == 1 else {
            throw CryptoError(
                .invalidKey, "the PEM key is not an Ed25519 key", operation: operation)
        }
        try self.init(key: parsed, operation: operation)
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` under this key.
    ///
    /// Any failure, including a signature of the wrong length, is simply `false`.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == Self.signatureByteCount else { return false }
        let context = DigestContext()
        let status = context.withPointer { ctx in
            key.withPointer { pkey -> Int32 in
                guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { return 0 }
                return withNonNullBytes(message) { input, count in
                    signature.withUnsafeBufferPointer { sig in
                        EVP_DigestVerify(ctx, sig.baseAddress, sig.count, input, count)
                    }
                }
            }
        }
        guard status == 1 else {
            // A bad signature leaves an entry on the error queue; drain it so that it cannot
            // be blamed on a later call on this thread. The caller only needs the verdict.
            _ = CryptoError.drainingOpenSSLQueue(
                .authenticationFailure, "signature rejected", operation: "Ed25519PublicKey.verify")
            return false
        }
        return true
    }

    /// The key as a PEM SubjectPublicKeyInfo document (`-----BEGIN PUBLIC KEY-----`).
    public func pem() throws(CryptoError) -> String {
        let operation = "Ed25519PublicKey.pem"
        let bio = try MemoryBIO(operation: operation)
        let status = bio.withPointer { out in
            key.withPointer { pkey in PEM_write_bio_PUBKEY(out, pkey) }
        }
        guard status == 1 else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "cannot write the public key as PEM", operation: operation)
        }
        return String(decoding: bio.readAll(), as: UTF8.self)
    }

    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.raw == rhs.raw
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(raw)
    }
}
