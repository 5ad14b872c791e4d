import Dispatch
import Foundation
import Synchronization
import TLS

/// A ``WebhookTransport`` that speaks HTTP/1.1 over its own socket and TLS engine, so that
/// receivers are verified against a configured CA file: a hospital's private PKI, which
/// ``URLSessionTransport`` cannot trust on Linux.
///
/// Each request is one connection, closed after the status line:
/// - the URL host is resolved (numeric IPv4/IPv6 literals as they are, `localhost` as
///   127.0.0.1, other names through getaddrinfo) and each address is tried in turn;
/// - for `https` the receiver's chain must verify against the trusted CAs and its certificate
///   must name the URL host (DNS name or IP address); there is no way to turn this off;
/// - `POST` is sent with `host`, `content-length`, `connection: close` and the request's
///   headers; the response head is read (at most ``maximumResponseHeadBytes``), its body is
///   never read;
/// - redirects are not followed: a 3xx is the outcome;
/// - plain `http` URLs use the same code without TLS.
///
/// Failures map to ``AttemptFailure``: `.hostNotFound`, `.connectionRefused`, `.timeout`,
/// `.tls` (handshake, untrusted chain, wrong name, a non-TLS peer), `.connectionLost` (the
/// peer closed or reset before any response byte), `.invalidResponse` (not an HTTP/1.x head,
/// or one over the limit) and `.network` for the rest, including a URL that is not http(s)
/// and a header containing CR, LF or NUL (nothing is sent then).
///
/// Threading: the blocking work runs on a private concurrent queue, one thread per request
/// in flight. A deadline timer reports `.timeout` if the work has not answered by then (a
/// slow getaddrinfo cannot be interrupted); either way the completion is called once.
public final class TLSSocketTransport: WebhookTransport {
    /// The largest response head (status line and headers) read before giving up.
    public static let maximumResponseHeadBytes = 65_536

    private let context: TLSContext
    private let timeoutMilliseconds: Int64
    private let queue = DispatchQueue(
        label: "phigate.webhooks.tls-transport", attributes: .concurrent)

    /// A transport trusting the CAs in the PEM file `trustedCAPath`, or the system trust
    /// store when nil. `timeoutMilliseconds` caps every attempt; a request's own, shorter
    /// `timeoutMilliseconds` wins.
    ///
    /// Throws `.invalidConfiguration` for a timeout below 1 ms or a CA file that cannot be
    /// loaded.
    public init(trustedCAPath: String?, timeoutMilliseconds: Int64) throws(WebhookError) {
        guard timeoutMilliseconds > 0 else {
            throw WebhookError(.invalidConfiguration, "the webhook timeout must be positive")
        }
        let configuration = TLSClientConfiguration(
            trustedCAPath: trustedCAPath, applicationProtocols: ["http/1.1"])
        do {
            self.context = try TLSContext(client: configuration)
        } catch {
            throw WebhookError(
                .invalidConfiguration, "cannot load the CAs trusted for webhook receivers",
                cause: error.description)
        }
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public func send(
        _ request: WebhookRequest, completion: @escaping @Sendable (AttemptOutcome) -> Void
    ) {
        let budget = max(1, min(request.timeoutMilliseconds, timeoutMilliseconds))
        let deadline = Deadline(millisecondsFromNow: budget)
        let once = CompletionOnce(completion)
        let delay = DispatchTimeInterval.milliseconds(Int(clamping: budget))
        queue.asyncAfter(deadline: .now() + delay) {
            once.complete(.failure(.timeout))
        }
        queue.async { [context] in
            let exchange = WebhookExchange(request: request, context: context, deadline: deadline)
            once.complete(exchange.run())
        }
    }
}

/// A point on the monotonic clock by which an attempt must be over.
struct Deadline: Sendable {
    let uptimeNanoseconds: UInt64

    /// `milliseconds` from now, capped at about 24 days (`Int32.max` ms).
    init(millisecondsFromNow milliseconds: Int64) {
        let span = UInt64(min(max(0, milliseconds), Int64(Int32.max))) * 1_000_000
        uptimeNanoseconds = DispatchTime.now().uptimeNanoseconds + span
    }

    /// Milliseconds left, rounded up; 0 once the deadline has passed.
    var remainingMilliseconds: Int {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < uptimeNanoseconds else {
            return 0
        }
        return Int(clamping: (uptimeNanoseconds - now + 999_999) / 1_000_000)
    }
}

/// A completion that runs at most once, whichever of the work and the timer gets there first.
final class CompletionOnce: Sendable {
    private let completion: Mutex<(@Sendable (AttemptOutcome) -> Void)?>

    init(_ completion: @escaping @Sendable (AttemptOutcome) -> Void) {
        self.completion = Mutex(completion)
    }

    /// Calls the completion with `outcome`, outside the lock, unless it was already called.
    func complete(_ outcome: AttemptOutcome) {
        let taken = completion.withLock { slot in
            defer { slot = nil }
            return slot
        }
        taken?(outcome)
    }
}
