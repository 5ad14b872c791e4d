import Crypto

/// Standard Webhooks symmetric signatures (`v1`): HMAC-SHA256 over `{id}.{timestamp}.{body}`.
///
/// The key is the decoded secret (``WebhookSecret/bytes``), the output is standard base64 and
/// the header value is `v1,<base64>`. The id and the timestamp are signed with the body so
/// that a receiver can refuse a replay (stale timestamp) and deduplicate (same id). The body
/// is signed exactly as sent: re-serialising JSON before verifying breaks the signature.
public enum WebhookSigner {
    /// The version tag of symmetric signatures.
    public static let version = "v1"
    /// The tolerance receivers conventionally allow between the timestamp and their clock.
    public static let defaultToleranceSeconds: Int64 = 300

    /// The `webhook-signature` header value for one attempt.
    ///
    /// - Precondition: `id` contains no `.`; the ids this module makes never do, and a dot
    ///   would let the id and timestamp fields be shifted against each other.
    public static func sign(
        id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret
    ) -> String {
        precondition(!id.contains("."), "a webhook id must not contain a full stop")
        return version + "," + Base64.encode(mac(id: id, timestamp: timestamp, body: body, secret))
    }

    /// Whether `signatureHeader` holds a `v1` signature of the message under `secret`.
    ///
    /// The header is the space-separated list a sender may use during secret rotation; other
    /// versions (`v1a`) are skipped. Each candidate is decoded and compared in constant time.
    /// The timestamp is not checked against a clock here; see
    /// ``verify(id:timestamp:body:secret:signatureHeader:now:toleranceSeconds:)``.
    public static func verify(
        id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret,
        signatureHeader: String
    ) -> Bool {
        let expected = mac(id: id, timestamp: timestamp, body: body, secret)
        var matched = false
        for candidate in signatureHeader.split(separator: " ", omittingEmptySubsequences: true) {
            guard candidate.hasPrefix(version + ","),
                let received = Base64.decode(String(candidate.dropFirst(version.count + 1)))
            else { continue }
            // Every candidate is compared, so the time does not reveal which one matched.
            if constantTimeEquals(received, expected) {
                matched = true
            }
        }
        return matched
    }

    /// ``verify(id:timestamp:body:secret:signatureHeader:)`` that also refuses a timestamp
    /// more than `toleranceSeconds` away from `now` (Unix seconds), as a receiver should.
    public static func verify(
        id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret,
        signatureHeader: String, now: Int64, toleranceSeconds: Int64 = defaultToleranceSeconds
    ) -> Bool {
        let skew = now >= timestamp ? now - timestamp : timestamp - now
        guard skew <= toleranceSeconds else {
            return false
        }
        return verify(
            id: id, timestamp: timestamp, body: body, secret: secret,
            signatureHeader: signatureHeader)
    }

    private static func mac(
        id: String, timestamp: Int64, body: [UInt8], _ secret: WebhookSecret
    ) -> [UInt8] {
        var message = Array(id.utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: String(timestamp).utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: body)
        return HMAC.sha256(key: secret.bytes, message: message)
    }
}
