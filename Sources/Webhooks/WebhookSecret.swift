import Crypto

/// A subscriber's symmetric signing secret in the Standard Webhooks form:
/// `whsec_` followed by the standard base64 of 24 to 64 random bytes.
///
/// The HMAC key is the decoded bytes, not the text. Parsing is strict: the prefix is
/// case-sensitive, the base64 must be canonical (no whitespace, complete padding, zero
/// trailing bits), and the length must be in range, so that a truncated or mistyped
/// secret in a configuration file is refused at start-up instead of producing signatures no
/// receiver accepts.
///
/// `description` never shows the secret, so interpolating one into a log line is harmless;
/// `text` is the only way to read it back, for the one response that hands it to an admin.
public struct WebhookSecret: Sendable, Equatable, CustomStringConvertible {
    /// The text every secret starts with.
    public static let prefix = "whsec_"
    /// The shortest key accepted: 192 bits, the Standard Webhooks minimum.
    public static let minimumByteCount = 24
    /// The longest key accepted: one SHA-256 block, beyond which HMAC hashes the key first.
    public static let maximumByteCount = 64
    /// The size of a secret made by ``generate(byteCount:)``: 256 bits.
    public static let generatedByteCount = 32

    /// The HMAC-SHA256 key.
    public let bytes: [UInt8]

    /// A secret over `bytes`; throws `.invalidSecret` when their count is out of range.
    public init(bytes: [UInt8]) throws(WebhookError) {
        guard (Self.minimumByteCount...Self.maximumByteCount).contains(bytes.count) else {
            throw WebhookError(
                .invalidSecret,
                "a webhook secret must hold \(Self.minimumByteCount) to "
                    + "\(Self.maximumByteCount) bytes")
        }
        self.bytes = bytes
    }

    /// Parses `whsec_<base64>`; throws `.invalidSecret` (without echoing the text) otherwise.
    public init(parsing text: String) throws(WebhookError) {
        guard text.hasPrefix(Self.prefix) else {
            throw WebhookError(.invalidSecret, "a webhook secret must start with whsec_")
        }
        // Padding is required: receivers' libraries decode with padded standard base64.
        let encoded = String(text.dropFirst(Self.prefix.count))
        guard encoded.utf8.count % 4 == 0, let decoded = Base64.decode(encoded) else {
            throw WebhookError(.invalidSecret, "a webhook secret must be whsec_ + padded base64")
        }
        try self.init(bytes: decoded)
    }

    /// A new secret of `byteCount` bytes from OpenSSL's generator.
    ///
    /// - Precondition: `byteCount` is within `minimumByteCount...maximumByteCount`.
    public static func generate(byteCount: Int = generatedByteCount) -> WebhookSecret {
        precondition(
            (minimumByteCount...maximumByteCount).contains(byteCount),
            "webhook secret size out of range")
        // The size was just checked, so the initializer cannot throw.
        return try! WebhookSecret(bytes: SecureRandom.bytes(byteCount))
    }

    /// The `whsec_…` text an admin gives to the receiver. Treat it as a password.
    public var text: String {
        Self.prefix + Base64.encode(bytes)
    }

    /// A short public name for the secret: `sha256:` + the first 8 bytes of the SHA-256 of
    /// ``text``, in hex. An admin can compare it with
    /// `printf %s "$SECRET" | sha256sum | cut -c1-16` without the secret being shown again.
    /// 64 bits of a hash of a 192-bit-or-more random value reveal nothing usable about it.
    public var fingerprint: String {
        "sha256:" + Hex.encode(Array(SHA256.hash(Array(text.utf8)).prefix(8)))
    }

    public var description: String {
        "WebhookSecret(" + fingerprint + ")"
    }

    /// Compares in constant time, as every comparison of secret material must.
    public static func == (left: WebhookSecret, right: WebhookSecret) -> Bool {
        constantTimeEquals(left.bytes, right.bytes)
    }
}
