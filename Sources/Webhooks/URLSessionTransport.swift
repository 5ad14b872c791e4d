import Dispatch
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The production ``WebhookTransport``: Foundation's URLSession with an ephemeral
/// configuration and nothing remembered between requests.
///
/// - No cookies, no cache, no credential storage: a receiver cannot plant state that a later
///   request to another receiver would carry.
/// - **Redirects are not followed.** A signed alert must reach the URL an admin registered
///   and no other: following a 3xx would hand the body (and a signature valid for five
///   minutes) to whatever host the receiver, or someone who took over its name, points at.
///   The 3xx is reported as the outcome, which the policy treats as a failure to retry.
/// - The response body is read and thrown away, at most `maximumResponseBytes` of it.
/// - TLS is checked against the system trust store. A configured CA needs a transport
///   built on another client (see ``WebhookTransport``): URLSession on Linux offers no
///   per-session trust setting.
///
/// URLSession on Linux does not enforce `timeoutIntervalForResource` once the status line
/// has arrived, and `cancel()` called from inside a data callback is ignored. This type
/// therefore runs its own deadline per request, on its own queue: at the deadline it reports
/// the outcome (the status when one arrived, else `.timeout`) and cancels the task from
/// outside the callbacks, which URLSession does honour.
public final class URLSessionTransport: WebhookTransport {
    /// How much of a response body is read before the request is cut off.
    public static let defaultMaximumResponseBytes = 65_536

    private let session: URLSession
    private let delegate: TransportDelegate

    /// A transport whose session allows `maximumConnectionsPerHost` parallel connections to
    /// one host; give it the dispatcher's total concurrency, since subscribers may share a host.
    public init(
        maximumConnectionsPerHost: Int = 4,
        maximumResponseBytes: Int = defaultMaximumResponseBytes
    ) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.httpMaximumConnectionsPerHost = max(1, maximumConnectionsPerHost)
        let delegate = TransportDelegate(maximumResponseBytes: max(0, maximumResponseBytes))
        let callbacks = OperationQueue()
        callbacks.maxConcurrentOperationCount = 1
        callbacks.name = "phigate.webhooks.urlsession"
        self.delegate = delegate
        self.session = URLSession(
            configuration: configuration, delegate: delegate, delegateQueue: callbacks)
    }

    deinit {
        // The session keeps its delegate alive until it is invalidated; outstanding requests
        // complete with `cancelled`.
        session.invalidateAndCancel()
    }

    public func send(
        _ request: WebhookRequest, completion: @escaping @Sendable (AttemptOutcome) -> Void
    ) {
        let timeout = Double(max(1, request.timeoutMilliseconds)) / 1_000
        var urlRequest = URLRequest(
            url: request.url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData,
            timeoutInterval: timeout)
        urlRequest.httpMethod = "POST"
        urlRequest.httpShouldHandleCookies = false
        urlRequest.httpBody = Data(request.body)
        for (name, value) in request.headers {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        let task = session.dataTask(with: urlRequest)
        delegate.register(task, timeoutMilliseconds: request.timeoutMilliseconds, completion)
        task.resume()
    }
}

/// URLSession's delegate for ``URLSessionTransport``: one entry per outstanding task.
///
/// `@unchecked Sendable`: the only mutable state is the `pending` table inside a `Mutex`;
/// URLSession calls the delegate on its serial callback queue, the deadline timers run on
/// `timers`, and both go through that lock.
final class TransportDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private struct Pending {
        let task: URLSessionTask
        let completion: @Sendable (AttemptOutcome) -> Void
        var status: Int?
        var retryAfterSeconds: Int64?
        var bodyBytes = 0
    }

    private let pending = Mutex<[Int: Pending]>([:])
    private let maximumResponseBytes: Int
    private let timers = DispatchQueue(label: "phigate.webhooks.transport-deadlines")

    init(maximumResponseBytes: Int) {
        self.maximumResponseBytes = maximumResponseBytes
    }

    func register(
        _ task: URLSessionTask, timeoutMilliseconds: Int64,
        _ completion: @escaping @Sendable (AttemptOutcome) -> Void
    ) {
        let id = task.taskIdentifier
        pending.withLock { $0[id] = Pending(task: task, completion: completion) }
        let delay = DispatchTimeInterval.milliseconds(Int(clamping: max(1, timeoutMilliseconds)))
        timers.asyncAfter(deadline: .now() + delay) { [weak self] in
            self?.finish(id, cancelling: true) { .timeout }
        }
    }

    /// Removes the task's entry and calls its completion once, outside the lock. The outcome
    /// is the recorded status if one arrived, else `failure()`.
    private func finish(_ id: Int, cancelling: Bool, failure: () -> AttemptFailure) {
        guard let entry = pending.withLock({ $0.removeValue(forKey: id) }) else {
            return
        }
        if let status = entry.status {
            entry.completion(.response(status: status, retryAfterSeconds: entry.retryAfterSeconds))
        } else {
            entry.completion(.failure(failure()))
        }
        // After the completion and off the deadline queue: on Linux `cancel()` can block for
        // half a second, and neither this outcome nor other requests' deadlines may wait.
        if cancelling {
            let task = entry.task
            DispatchQueue.global().async { task.cancel() }
        }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        // Never follow: the 3xx itself becomes the outcome (see URLSessionTransport).
        completionHandler(nil)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        if let http = response as? HTTPURLResponse {
            let retryAfter = Self.retryAfterSeconds(http.value(forHTTPHeaderField: "Retry-After"))
            pending.withLock {
                $0[dataTask.taskIdentifier]?.status = http.statusCode
                $0[dataTask.taskIdentifier]?.retryAfterSeconds = retryAfter
            }
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let id = dataTask.taskIdentifier
        let overLimit = pending.withLock { table -> Bool in
            guard var entry = table[id] else { return false }
            entry.bodyBytes += data.count
            table[id] = entry
            return entry.bodyBytes > maximumResponseBytes
        }
        if overLimit {
            // A cancel issued inside this callback is ignored on Linux; finish from outside.
            timers.async { [weak self] in
                self?.finish(id, cancelling: true) { .invalidResponse }
            }
        }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?
    ) {
        finish(task.taskIdentifier, cancelling: false) { Self.classify(error) }
    }

    /// The failure class of a URLSession error (only used when no status arrived).
    static func classify(_ error: (any Error)?) -> AttemptFailure {
        guard let error else {
            return .invalidResponse
        }
        switch URLError.Code(rawValue: (error as NSError).code) {
        case .timedOut: return .timeout
        case .cannotConnectToHost: return .connectionRefused
        case .cannotFindHost, .dnsLookupFailed: return .hostNotFound
        case .networkConnectionLost, .notConnectedToInternet: return .connectionLost
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot,
            .clientCertificateRejected, .clientCertificateRequired:
            return .tls
        case .badServerResponse, .cannotParseResponse: return .invalidResponse
        default: return .network
        }
    }

    /// A `Retry-After` given as delta-seconds; the HTTP-date form and junk give nil.
    static func retryAfterSeconds(_ value: String?) -> Int64? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty,
            text.count <= 10, text.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        else { return nil }
        return Int64(text)
    }
}
