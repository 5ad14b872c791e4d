import Foundation

/// One signed POST, ready for a transport.
public struct WebhookRequest: Sendable {
    /// The value of `user-agent` on every request.
    public static let userAgent = "phigate-webhooks/1"

    public let url: URL
    /// Header fields in the order they are set; names are lower case.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    /// The whole attempt's budget, from sending to the status line, in milliseconds.
    public let timeoutMilliseconds: Int64

    public init(
        url: URL, headers: [(name: String, value: String)], body: [UInt8],
        timeoutMilliseconds: Int64
    ) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The Standard Webhooks request for one attempt: `webhook-id` (the event id, the same on
    /// every attempt), `webhook-timestamp` (this attempt's time), `webhook-signature`, plus
    /// `content-type: application/json` and ``userAgent``.
    public static func signed(
        url: URL, eventID: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret,
        timeoutMilliseconds: Int64
    ) -> WebhookRequest {
        let signature = WebhookSigner.sign(
            id: eventID, timestamp: timestamp, body: body, secret: secret)
        return WebhookRequest(
            url: url,
            headers: [
                ("content-type", "application/json"),
                ("user-agent", userAgent),
                ("webhook-id", eventID),
                ("webhook-timestamp", String(timestamp)),
                ("webhook-signature", signature),
            ],
            body: body, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The value of the header `name` (lower case), if set.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

/// The seam between the delivery engine and the network.
///
/// The engine needs one thing: send a request, and learn the status line or why there was
/// none. ``URLSessionTransport`` is the production implementation; a transport with its own
/// TLS trust (a configured CA for receivers on an internal PKI), a proxy or a test double
/// conforms to this protocol and is passed to ``WebhookDispatcher``.
///
/// Contract for implementations:
/// - `completion` is called exactly once, on any thread, no later than about
///   `request.timeoutMilliseconds` after `send` was called, whatever the receiver does
///   (including trickling a body forever);
/// - redirects are not followed: a 3xx is reported as `.response(status: 3xx, …)`;
/// - the response body is not needed and must not be kept in memory without bound;
/// - `send` must not block for the duration of the request.
public protocol WebhookTransport: Sendable {
    func send(_ request: WebhookRequest, completion: @escaping @Sendable (AttemptOutcome) -> Void)
}
