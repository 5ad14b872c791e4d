import Crypto
import Foundation

/// One receiver of alerts: where to send, how to sign, which events.
///
/// This value carries the secret and exists only inside the engine (to sign a request) and
/// in the one answer to ``SubscriberStore/add(url:events:)``. Admin listings use
/// ``SubscriberSummary``, which has a fingerprint instead.
public struct WebhookSubscriber: Sendable, Equatable {
    /// Where a subscriber was defined.
    public enum Source: String, Sendable {
        /// The configuration file's `webhooks` list; the file is the source of truth.
        case config
        /// The admin API.
        case api
    }

    /// `cfg_…` for configured subscribers (derived from the URL), `sub_…` for API ones.
    public let id: String
    /// An absolute http or https URL; see ``WebhookSubscriber/validate(url:)``.
    public let url: URL
    public let secret: WebhookSecret
    /// Event patterns; see ``WebhookEventFilter``.
    public let events: Set<String>
    public let source: Source
    /// A disabled subscriber gets no new deliveries and no attempts; see ``DisabledReason``.
    public let disabled: Bool

    public init(
        id: String, url: URL, secret: WebhookSecret, events: Set<String>, source: Source,
        disabled: Bool
    ) {
        self.id = id
        self.url = url
        self.secret = secret
        self.events = events
        self.source = source
        self.disabled = disabled
    }

    /// The longest URL accepted, in bytes.
    public static let maximumURLLength = 2_048

    /// Checks that `url` is something alerts may be sent to.
    ///
    /// Accepted: an absolute `http` or `https` URL with a host, without user information
    /// (credentials in a URL end up in logs and process listings; receivers authenticate
    /// the sender by the signature) and without a fragment (never sent, so it means a
    /// mistake). Plain http is allowed for receivers on loopback or a private network;
    /// alert bodies carry ids, not PHI. Throws `.invalidURL`; the message never echoes the URL.
    public static func validate(url: URL) throws(WebhookError) {
        let text = url.absoluteString
        guard text.utf8.count <= maximumURLLength else {
            throw WebhookError(.invalidURL, "the URL is longer than \(maximumURLLength) bytes")
        }
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else {
            throw WebhookError(.invalidURL, "the URL must be absolute http or https")
        }
        guard let host = url.host, !host.isEmpty else {
            throw WebhookError(.invalidURL, "the URL has no host")
        }
        guard url.user == nil, url.password == nil else {
            throw WebhookError(.invalidURL, "the URL must not carry credentials")
        }
        guard url.fragment == nil else {
            throw WebhookError(.invalidURL, "the URL must not have a fragment")
        }
    }

    /// Parses and validates a URL written as text (configuration, admin API).
    public static func parseURL(_ text: String) throws(WebhookError) -> URL {
        guard !text.isEmpty, text.utf8.count <= maximumURLLength,
            !text.unicodeScalars.contains(where: { $0.properties.isWhitespace }),
            let url = URL(string: text)
        else {
            throw WebhookError(.invalidURL, "the URL does not parse")
        }
        try validate(url: url)
        return url
    }

    /// The stable id of a configured subscriber: `cfg_` + 16 bytes of SHA-256 of the URL
    /// text, in base64url. The same URL keeps its id, its delivery history and its pending
    /// deliveries across restarts and edits of its secret or events.
    public static func configuredID(for url: URL) -> String {
        let input = "phigate-webhook-subscriber\u{0}" + url.absoluteString
        let digest = SHA256.hash(Array(input.utf8))
        return "cfg_" + Base64URL.encode(Array(digest.prefix(16)))
    }

    /// A fresh id for an API-created subscriber: `sub_` + 16 random bytes in base64url.
    static func generatedID() -> String {
        "sub_" + SecureRandom.token(byteCount: 16)
    }
}

/// A subscriber as `webhooks` in the configuration file describes it, already validated.
public struct WebhookSubscriberConfig: Sendable, Equatable {
    public let url: URL
    public let secret: WebhookSecret
    public let events: Set<String>

    /// Validates one configured entry; throws `.invalidURL`, `.invalidSecret` or
    /// `.invalidEventFilter`, whose messages the configuration loader can prefix with the
    /// key (`webhooks[2].secret`).
    public init(url: String, secret: String, events: [String]) throws(WebhookError) {
        self.url = try WebhookSubscriber.parseURL(url)
        self.secret = try WebhookSecret(parsing: secret)
        self.events = Set(events)
        try WebhookEventFilter.validate(self.events)
    }
}

/// Why a subscriber is disabled.
public enum DisabledReason: String, Sendable {
    /// An admin disabled it.
    case admin
    /// It came from the configuration file and is no longer listed there.
    case removedFromConfig = "removed_from_config"
    /// Its receiver answered 410 Gone: it wants no more webhooks.
    case gone
}

/// What an admin sees of a subscriber: everything but the secret.
public struct SubscriberSummary: Sendable, Equatable {
    public let id: String
    public let url: URL
    public let events: Set<String>
    public let source: WebhookSubscriber.Source
    public let disabled: Bool
    public let disabledReason: DisabledReason?
    /// See ``WebhookSecret/fingerprint``.
    public let secretFingerprint: String
    /// Unix milliseconds.
    public let createdAt: Int64
    /// Unix milliseconds of the last change (secret, events, enabled state).
    public let updatedAt: Int64
}
