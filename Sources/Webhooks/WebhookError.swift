import Store

/// The one error type of the Webhooks module.
///
/// `code` is what a caller switches on; `message` is safe for a log or an admin response. No
/// message ever holds a signing secret, a signature, a message body or a payload: payloads
/// are written by other modules and, though they carry ids rather than PHI, are kept out too.
/// Subscriber ids, event ids, delivery ids and event type names may appear.
public struct WebhookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as an extensible set of named values rather than a frozen enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for logs and metrics.
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        /// A subscriber URL that is not absolute http(s), carries credentials or a fragment.
        public static let invalidURL = Code("invalid_url")
        /// A secret that is not `whsec_` + canonical base64 of 24 to 64 bytes.
        public static let invalidSecret = Code("invalid_secret")
        /// An event filter that is empty or holds a name that is not an event type pattern.
        public static let invalidEventFilter = Code("invalid_event_filter")
        /// An event type that is not dot-separated `[A-Za-z0-9_]` segments.
        public static let invalidEventType = Code("invalid_event_type")
        /// An event id that is not `msg_` + base64url text.
        public static let invalidEventID = Code("invalid_event_id")
        /// A payload that is not a JSON object, or one larger than the limit.
        public static let invalidPayload = Code("invalid_payload")
        /// Two configured subscribers with the same URL.
        public static let duplicateSubscriber = Code("duplicate_subscriber")
        /// No subscriber has this id (or it has been removed).
        public static let unknownSubscriber = Code("unknown_subscriber")
        /// The subscriber comes from the configuration file; change the file instead.
        public static let configManaged = Code("config_managed")
        /// An event with this id is already in the outbox.
        public static let duplicateEvent = Code("duplicate_event")
        /// No delivery has this id.
        public static let unknownDelivery = Code("unknown_delivery")
        /// The operation does not fit the delivery's state (requeueing one that is not dead).
        public static let invalidState = Code("invalid_state")
        /// A configuration value out of range (timeouts, limits, backoff, the sealing key).
        public static let invalidConfiguration = Code("invalid_configuration")
        /// A stored secret does not open under the key: the key is wrong or the row was altered.
        public static let secretUnreadable = Code("secret_unreadable")
        /// The database failed, or holds a row this program cannot read.
        public static let storage = Code("storage")
    }

    /// What went wrong.
    public var code: Code
    /// A message without secrets, signatures or payloads.
    public var message: String
    /// The description of an underlying `StoreError` or `CryptoError`, for the log; both
    /// types keep SQL arguments and key material out of their descriptions.
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else {
            return "WebhookError(\(code)): \(message)"
        }
        return "WebhookError(\(code)): \(message) [\(cause)]"
    }
}

extension WebhookError {
    /// Runs `body` and turns any error it throws into a `WebhookError`.
    ///
    /// A `WebhookError` passes through unchanged; a `StoreError` becomes `.storage` (or
    /// `constraintCode` for a constraint failure, when given) with the store's description as
    /// the cause. Anything else is also `.storage`, with only its type name kept.
    @discardableResult
    static func translating<Result>(
        _ operation: String, constraintCode: Code? = nil, _ body: () throws -> Result
    ) throws(WebhookError) -> Result {
        do {
            return try body()
        } catch let error as WebhookError {
            throw error
        } catch let error as StoreError {
            if let constraintCode, error.code == .constraint {
                throw WebhookError(constraintCode, operation + ": the row already exists")
            }
            throw WebhookError(.storage, operation + " failed", cause: error.description)
        } catch {
            throw WebhookError(
                .storage, operation + " failed", cause: String(describing: type(of: error)))
        }
    }
}
