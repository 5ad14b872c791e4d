internal import COpenSSL

/// HMAC (RFC 2104) over SHA-1, SHA-256 and SHA-512, computed by OpenSSL's EVP_MAC.
///
/// Uses: webhook signatures (SHA-256, Standard Webhooks), TOTP (SHA-1 per RFC 6238).
/// Compare a received MAC with ``constantTimeEquals(_:_:)``, never with `==`.
public enum HMAC {
    /// HMAC-SHA256 of `message` under `key` (32 bytes). Any key length is allowed, including
    /// zero; keys longer than 64 bytes are hashed first, as RFC 2104 specifies.
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        authenticate(.sha256, key: key, message: message)
    }

    /// HMAC-SHA1 of `message` under `key` (20 bytes). SHA-1 is still sound inside HMAC; it is
    /// offered for TOTP, whose authenticator apps default to it.
    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        authenticate(.sha1, key: key, message: message)
    }

    /// HMAC-SHA512 of `message` under `key` (64 bytes).
    public static func sha512(key: [UInt8], message: [UInt8]) -> [UInt8] {
        authenticate(.sha512, key: key, message: message)
    }

    /// One-shot MAC through `EVP_Q_mac`.
    ///
    /// With a built-in digest every key and message length is valid, so OpenSSL fails here only
    /// when it cannot allocate; like a Swift allocation failure, that stops the process.
    private static func authenticate(
        _ digest: MessageDigest, key: [UInt8], message: [UInt8]
    ) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: digest.byteCount)
        var written = 0
        let result = withNonNullBytes(key) { keyPointer, keyCount in
            withNonNullBytes(message) { messagePointer, messageCount in
                output.withUnsafeMutableBufferPointer { out in
                    EVP_Q_mac(
                        nil, "HMAC", nil, digest.name, nil, keyPointer, keyCount,
                        messagePointer, messageCount, out.baseAddress, out.count, &written)
                }
            }
        }
        guard result != nil, written == digest.byteCount else {
            let error = CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "HMAC-\(digest.name) failed", operation: "HMAC.authenticate")
            fatalError("\(error)")
        }
        return output
    }
}
