internal import COpenSSL

/// AES-256-GCM authenticated encryption for small secrets at rest (TOTP seeds, webhook
/// secrets), with a random 96-bit nonce per message.
///
/// A sealed box is `nonce (12) || ciphertext || tag (16)`. Random nonces are safe for up to
/// about 2^32 messages under one key (NIST SP 800-38D); rotate the key well before that.
/// Additional authenticated data binds the box to its context (for example the user id the
/// seed belongs to) so that a box copied onto another row fails to open.
public enum AESGCM {
    /// The key length in bytes (AES-256).
    public static let keyByteCount = 32
    /// The nonce length in bytes.
    public static let nonceByteCount = 12
    /// The tag length in bytes.
    public static let tagByteCount = 16
    /// The largest plaintext accepted, well inside OpenSSL's `int` lengths: 16 MiB.
    public static let maxPlaintextByteCount = 16 << 20

    /// Encrypts and authenticates `plaintext`, binding `aad`, under a fresh random nonce.
    ///
    /// - Throws: `invalidKey` unless `key` is 32 bytes; `invalidParameter` when the plaintext
    ///   or AAD is larger than ``maxPlaintextByteCount``; `libraryFailure` when OpenSSL fails.
    public static func seal(
        _ plaintext: [UInt8], key: [UInt8], aad: [UInt8] = []
    ) throws(CryptoError) -> [UInt8] {
        let operation = "AESGCM.seal"
        try checkSizes(key: key, payload: plaintext.count, aad: aad, operation: operation)
        let nonce = SecureRandom.bytes(nonceByteCount)
        let context = CipherContext()
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: tagByteCount)

        let succeeded = context.withPointer { ctx -> Bool in
            guard initialize(ctx, key: key, nonce: nonce, encrypting: true),
                feedAAD(ctx, aad, encrypting: true),
                transform(ctx, plaintext, into: &ciphertext, encrypting: true)
            else { return false }
            var scratch = [UInt8](repeating: 0, count: 16)
            var written: Int32 = 0
            guard EVP_EncryptFinal_ex(ctx, &scratch, &written) == 1, written == 0 else {
                return false
            }
            return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount), &tag) == 1
        }
        guard succeeded else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "AES-GCM encryption failed", operation: operation)
        }
        return nonce + ciphertext + tag
    }

    /// Checks and decrypts a box made by ``seal(_:key:aad:)`` with the same key and AAD.
    ///
    /// No plaintext is returned unless the tag verifies.
    ///
    /// - Throws: `invalidKey` unless `key` is 32 bytes; `malformedInput` when the box is
    ///   shorter than a nonce and a tag; `authenticationFailure` when the nonce, ciphertext,
    ///   tag, AAD or key differ from those used to seal.
    public static func open(
        _ sealed: [UInt8], key: [UInt8], aad: [UInt8] = []
    ) throws(CryptoError) -> [UInt8] {
        let operation = "AESGCM.open"
        guard sealed.count >= nonceByteCount + tagByteCount else {
            throw CryptoError(.malformedInput, "the sealed box is too short", operation: operation)
        }
        let payloadCount = sealed.count - nonceByteCount - tagByteCount
        try checkSizes(key: key, payload: payloadCount, aad: aad, operation: operation)
        let nonce = Array(sealed.prefix(nonceByteCount))
        let ciphertext = Array(sealed.dropFirst(nonceByteCount).prefix(payloadCount))
        var tag = Array(sealed.suffix(tagByteCount))
        let context = CipherContext()
        var plaintext = [UInt8](repeating: 0, count: payloadCount)

        let succeeded = context.withPointer { ctx -> Bool in
            guard initialize(ctx, key: key, nonce: nonce, encrypting: false),
                feedAAD(ctx, aad, encrypting: false),
                transform(ctx, ciphertext, into: &plaintext, encrypting: false),
                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), &tag) == 1
            else { return false }
            var scratch = [UInt8](repeating: 0, count: 16)
            var written: Int32 = 0
            return EVP_DecryptFinal_ex(ctx, &scratch, &written) == 1
        }
        guard succeeded else {
            throw CryptoError.drainingOpenSSLQueue(
                .authenticationFailure, "the sealed box does not authenticate",
                operation: operation)
        }
        return plaintext
    }

    private static func checkSizes(
        key: [UInt8], payload: Int, aad: [UInt8], operation: String
    ) throws(CryptoError) {
        guard key.count == keyByteCount else {
            throw CryptoError(.invalidKey, "an AES-256 key is 32 bytes", operation: operation)
        }
        guard payload <= maxPlaintextByteCount, aad.count <= maxPlaintextByteCount else {
            throw CryptoError(
                .invalidParameter, "the message or AAD is too large",
                operation: operation)
        }
    }

    /// Selects AES-256-GCM with `key` and `nonce` (GCM's default IV length is 12 bytes).
    private static func initialize(
        _ ctx: OpaquePointer, key: [UInt8], nonce: [UInt8], encrypting: Bool
    ) -> Bool {
        key.withUnsafeBufferPointer { keyBytes in
            nonce.withUnsafeBufferPointer { nonceBytes in
                let cipher = EVP_aes_256_gcm()
                let (keyPointer, iv) = (keyBytes.baseAddress, nonceBytes.baseAddress)
                let status =
                    encrypting
                    ? EVP_EncryptInit_ex2(ctx, cipher, keyPointer, iv, nil)
                    : EVP_DecryptInit_ex2(ctx, cipher, keyPointer, iv, nil)
                return status == 1
            }
        }
    }

    /// Authenticates `aad` without encrypting it (an update with a null output buffer).
    private static func feedAAD(_ ctx: OpaquePointer, _ aad: [UInt8], encrypting: Bool) -> Bool {
        guard !aad.isEmpty else { return true }
        var written: Int32 = 0
        let status = aad.withUnsafeBufferPointer { bytes in
            encrypting
                ? EVP_EncryptUpdate(ctx, nil, &written, bytes.baseAddress, Int32(bytes.count))
                : EVP_DecryptUpdate(ctx, nil, &written, bytes.baseAddress, Int32(bytes.count))
        }
        return status == 1
    }

    /// Encrypts or decrypts `input` into `output`, which has the same length (GCM is a stream
    /// mode).
    private static func transform(
        _ ctx: OpaquePointer, _ input: [UInt8], into output: inout [UInt8], encrypting: Bool
    ) -> Bool {
        guard !input.isEmpty else { return true }
        var written: Int32 = 0
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                encrypting
                    ? EVP_EncryptUpdate(
                        ctx, target.baseAddress, &written, source.baseAddress, Int32(source.count))
                    : EVP_DecryptUpdate(
                        ctx, target.baseAddress, &written, source.baseAddress, Int32(source.count))
            }
        }
        return status == 1 && Int(written) == input.count
    }
}
