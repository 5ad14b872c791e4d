import Crypto

/// Seals subscriber secrets for storage with AES-256-GCM under the gateway's data key.
///
/// The associated data binds each box to its subscriber id, so a sealed secret copied onto
/// another subscriber's row fails to open instead of signing that subscriber's alerts.
enum SecretSeal {
    /// Throws `.invalidConfiguration` unless `key` is an AES-256 key.
    static func checkKey(_ key: [UInt8]) throws(WebhookError) {
        guard key.count == AESGCM.keyByteCount else {
            throw WebhookError(
                .invalidConfiguration,
                "the webhook secret key must be \(AESGCM.keyByteCount) bytes")
        }
    }

    static func seal(_ secret: WebhookSecret, subscriberID: String, key: [UInt8])
        throws(WebhookError) -> [UInt8]
    {
        do {
            return try AESGCM.seal(secret.bytes, key: key, aad: associatedData(subscriberID))
        } catch {
            throw WebhookError(.storage, "sealing a webhook secret failed", cause: "\(error)")
        }
    }

    /// The secret in `sealed`; throws `.secretUnreadable` when the box does not open (another
    /// key, another row, or altered bytes) or holds something that is not a secret.
    static func open(_ sealed: [UInt8], subscriberID: String, key: [UInt8])
        throws(WebhookError) -> WebhookSecret
    {
        let bytes: [UInt8]
        do {
            bytes = try AESGCM.open(sealed, key: key, aad: associatedData(subscriberID))
        } catch {
            throw WebhookError(
                .secretUnreadable, "the secret of subscriber \(subscriberID) does not open",
                cause: "\(error)")
        }
        do {
            return try WebhookSecret(bytes: bytes)
        } catch {
            throw WebhookError(
                .secretUnreadable, "the stored secret of subscriber \(subscriberID) is malformed")
        }
    }

    private static func associatedData(_ subscriberID: String) -> [UInt8] {
        Array("phigate-webhook-secret\u{0}".utf8) + Array(subscriberID.utf8)
    }
}
