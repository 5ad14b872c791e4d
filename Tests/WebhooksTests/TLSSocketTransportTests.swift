import Foundation
import Testing

@testable import Webhooks

@Suite(
    "Socket and TLS engine transport against a real receiver",
    .enabled(if: ReceiverCertificates.available, "needs the openssl and python3 executables"))
struct TLSSocketTransportTests {
    /// Which CAs the transport trusts.
    enum Trust: Sendable, CustomStringConvertible {
        case testCA, otherCA, systemStore

        var description: String {
            switch self {
            case .testCA: "test CA"
            case .otherCA: "other CA"
            case .systemStore: "system store"
            }
        }
    }

    /// A test's directory and its certificates.
    private func makeCertificates() async throws -> (TemporaryDirectory, ReceiverCertificates) {
        let directory = try TemporaryDirectory()
        return (directory, try await ReceiverCertificates.make(in: directory))
    }

    private func transport(_ trust: Trust, _ certificates: ReceiverCertificates) throws
        -> TLSSocketTransport
    {
        let path: String? =
            switch trust {
            case .testCA: certificates.caPath
            case .otherCA: certificates.otherCAPath
            case .systemStore: nil
            }
        return try TLSSocketTransport(trustedCAPath: path, timeoutMilliseconds: 5_000)
    }

    /// Sends one signed request and returns the outcome and the seconds it took.
    private func send(
        _ url: String, through transport: TLSSocketTransport, timeoutMilliseconds: Int64 = 3_000
    ) async throws -> (AttemptOutcome, Double) {
        let request = WebhookRequest.signed(
            url: try #require(URL(string: url)), eventID: Signatures.specID,
            timestamp: 1_800_000_000, body: Array(#"{"grant":"g1"}"#.utf8),
            secret: try WebhookSecret(parsing: Signatures.specSecret),
            timeoutMilliseconds: timeoutMilliseconds)
        let started = Date()
        let outcome = await withCheckedContinuation { continuation in
            transport.send(request) { continuation.resume(returning: $0) }
        }
        return (outcome, Date().timeIntervalSince(started))
    }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func aReceiverOnThePrivateCAGetsTheSignedRequest(host: String) async throws {
        let (directory, certificates) = try await makeCertificates()
        let receiver = try await LocalReceiver.start(
            directory: directory, certificate: certificates.receiver.files)
        let transport = try transport(.testCA, certificates)

        let (outcome, _) = try await send(receiver.url("/ok?x=1", host: host), through: transport)

        #expect(outcome == .response(status: 200, retryAfterSeconds: nil))
        let requests = try receiver.requests()
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.path == "/ok?x=1")
        #expect(request.verified)
        let expectedSignature = WebhookSigner.sign(
            id: Signatures.specID, timestamp: 1_800_000_000, body: Array(#"{"grant":"g1"}"#.utf8),
            secret: try WebhookSecret(parsing: Signatures.specSecret))
        #expect(request.headers["webhook-signature"] == expectedSignature)
        #expect(request.headers["webhook-id"] == Signatures.specID)
        #expect(request.headers["webhook-timestamp"] == "1800000000")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["content-length"] == "14")
        #expect(request.headers["user-agent"] == "phigate-webhooks/1")
        #expect(request.headers["host"] == "\(host):\(receiver.port)")
        #expect(request.body == Array(#"{"grant":"g1"}"#.utf8))
    }

    /// (path, outcome): statuses, Retry-After and an unfollowed redirect, over HTTPS.
    static let statuses: [(String, AttemptOutcome)] = [
        ("/status/204", .response(status: 204, retryAfterSeconds: nil)),
        ("/status/503/7", .response(status: 503, retryAfterSeconds: 7)),
        ("/status/429/soon", .response(status: 429, retryAfterSeconds: nil)),
        ("/status/410", .response(status: 410, retryAfterSeconds: nil)),
        ("/redirect", .response(status: 302, retryAfterSeconds: nil)),
        ("/trickle", .response(status: 200, retryAfterSeconds: nil)),
    ]

    @Test(arguments: statuses)
    func reportsTheStatusLine(path: String, expected: AttemptOutcome) async throws {
        let (directory, certificates) = try await makeCertificates()
        let receiver = try await LocalReceiver.start(
            directory: directory, certificate: certificates.receiver.files)

        let (outcome, seconds) = try await send(
            receiver.url(path), through: try transport(.testCA, certificates))

        #expect(outcome == expected)
        #expect(seconds < 2)
        #expect(try receiver.requests().map(\.path) == [path])
    }

    /// (trust, receiver certificate, URL host): every one must fail the handshake.
    static let refusals: [(Trust, String, String)] = [
        (.systemStore, "receiver", "127.0.0.1"),
        (.otherCA, "receiver", "127.0.0.1"),
        (.otherCA, "receiver", "localhost"),
        (.testCA, "elsewhere", "127.0.0.1"),
        (.testCA, "elsewhere", "localhost"),
    ]

    @Test(arguments: refusals)
    func anUntrustedOrMisnamedReceiverGetsNothing(
        trust: Trust, certificate: String, host: String
    ) async throws {
        let (directory, certificates) = try await makeCertificates()
        let identity = certificate == "receiver" ? certificates.receiver : certificates.elsewhere
        let receiver = try await LocalReceiver.start(
            directory: directory, certificate: identity.files)

        let (outcome, _) = try await send(
            receiver.url("/ok", host: host), through: try transport(trust, certificates))

        #expect(outcome == .failure(.tls))
        #expect(try receiver.requests().isEmpty)
    }

    @Test func plainHTTPGoesOverThePlainSocket() async throws {
        let (directory, certificates) = try await makeCertificates()
        let receiver = try await LocalReceiver.start(directory: directory)

        let (outcome, _) = try await send(
            receiver.url("/status/503/9"), through: try transport(.testCA, certificates))

        #expect(outcome == .response(status: 503, retryAfterSeconds: 9))
        let requests = try receiver.requests()
        #expect(requests.count == 1 && requests[0].verified)
    }

    @Test func httpsToAPlainHTTPReceiverIsATLSFailure() async throws {
        let (directory, certificates) = try await makeCertificates()
        let receiver = try await LocalReceiver.start(directory: directory)
        let url = "https://127.0.0.1:\(receiver.port)/ok"

        let (outcome, _) = try await send(url, through: try transport(.testCA, certificates))

        #expect(outcome == .failure(.tls))
        #expect(try receiver.requests().isEmpty)
    }

    @Test(arguments: [true, false])
    func aClosedPortIsConnectionRefused(secure: Bool) async throws {
        let (directory, certificates) = try await makeCertificates()
        let receiver = try await LocalReceiver.start(
            directory: directory, certificate: secure ? certificates.receiver.files : nil)
        let url = receiver.url("/ok")
        await receiver.stop()

        let (outcome, _) = try await send(url, through: try transport(.testCA, certificates))

        #expect(outcome == .failure(.connectionRefused))
    }

    @Test(arguments: [true, false])
    func aSilentReceiverTimesOutWithinTheLimit(secure: Bool) async throws {
        let (directory, certificates) = try await makeCertificates()
        let receiver = try await LocalReceiver.start(
            directory: directory, certificate: secure ? certificates.receiver.files : nil)

        let (outcome, seconds) = try await send(
            receiver.url("/sleep/5"), through: try transport(.testCA, certificates),
            timeoutMilliseconds: 600)

        #expect(outcome == .failure(.timeout))
        #expect(seconds >= 0.5 && seconds < 1.5)
    }

    @Test func theTransportTimeoutCapsALongerRequestTimeout() async throws {
        let (directory, certificates) = try await makeCertificates()
        let receiver = try await LocalReceiver.start(directory: directory)
        let transport = try TLSSocketTransport(
            trustedCAPath: certificates.caPath, timeoutMilliseconds: 500)

        let (outcome, seconds) = try await send(
            receiver.url("/sleep/5"), through: transport, timeoutMilliseconds: 10_000)

        #expect(outcome == .failure(.timeout))
        #expect(seconds < 1.5)
    }

    @Test func anUnknownHostIsHostNotFound() async throws {
        let (directory, certificates) = try await makeCertificates()
        defer { withExtendedLifetime(directory) {} }
        let (outcome, _) = try await send(
            "https://receiver.invalid/ok", through: try transport(.testCA, certificates))
        #expect(outcome == .failure(.hostNotFound))
    }

    @Test func aDispatcherDeliversThroughThePrivateCA() async throws {
        let fixture = try OutboxFixture()
        let certificates = try await ReceiverCertificates.make(in: fixture.directory)
        let receiver = try await LocalReceiver.start(
            directory: fixture.directory, certificate: certificates.receiver.files)
        try fixture.configure([(receiver.url("/flaky/1"), ["*"])])
        let dispatcher = try WebhookDispatcher(
            configuration: fixture.configuration(),
            transport: try transport(.testCA, certificates))
        let event = try fixture.enqueue()
        dispatcher.start()
        defer { dispatcher.stop() }
        dispatcher.poke()

        #expect(try await eventually { try fixture.delivery(of: event).state == .delivered })
        let requests = try receiver.requests()
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.verified && $0.headers["webhook-id"] == event.id })
        let delivery = try fixture.delivery(of: event)
        #expect(try fixture.log.attempts(deliveryID: delivery.id).map(\.httpStatus) == [500, 200])
    }

    /// (CA path, timeout): configurations the initializer must refuse.
    @Test(arguments: [
        ("/nonexistent/ca.pem", Int64(1_000)), ("", 1_000), (nil, 0), (nil, -5),
    ] as [(String?, Int64)])
    func refusesAnUnusableConfiguration(caPath: String?, timeout: Int64) throws {
        let error = #expect(throws: WebhookError.self) {
            try TLSSocketTransport(trustedCAPath: caPath, timeoutMilliseconds: timeout)
        }
        #expect(error?.code == .invalidConfiguration)
    }
}
