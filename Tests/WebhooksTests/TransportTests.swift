import Foundation
import Synchronization
import Testing

@testable import Webhooks

@Suite("URLSession transport against a real receiver")
struct TransportTests {
    /// Sends one signed request and waits for the outcome.
    private func send(_ url: String, timeoutMilliseconds: Int64 = 3_000) async throws
        -> (AttemptOutcome, Double)
    {
        let transport = URLSessionTransport()
        let request = WebhookRequest.signed(
            url: try #require(URL(string: url)), eventID: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_800_000_000, body: Array("{}".utf8),
            secret: try WebhookSecret(parsing: Signatures.specSecret),
            timeoutMilliseconds: timeoutMilliseconds)
        let started = Date()
        let outcome = await withCheckedContinuation { continuation in
            transport.send(request) { continuation.resume(returning: $0) }
        }
        return (outcome, Date().timeIntervalSince(started))
    }

    /// (path, expected outcome)
    static let cases: [(String, AttemptOutcome)] = [
        ("/ok", .response(status: 200, retryAfterSeconds: nil)),
        ("/status/204", .response(status: 204, retryAfterSeconds: nil)),
        ("/status/503/7", .response(status: 503, retryAfterSeconds: 7)),
        ("/status/429/soon", .response(status: 429, retryAfterSeconds: nil)),
        ("/status/410", .response(status: 410, retryAfterSeconds: nil)),
        ("/redirect", .response(status: 302, retryAfterSeconds: nil)),
    ]

    @Test(arguments: cases)
    func reportsTheStatusLine(path: String, expected: AttemptOutcome) async throws {
        let directory = try TemporaryDirectory()
        let receiver = try await LocalReceiver.start(directory: directory)
        let (outcome, _) = try await send(receiver.url(path))
        #expect(outcome == expected)
        // Redirects are not followed: the receiver saw exactly one request.
        #expect(try receiver.requests().map(\.path) == [path])
    }

    @Test func sendsTheStandardWebhooksHeaders() async throws {
        let directory = try TemporaryDirectory()
        let receiver = try await LocalReceiver.start(directory: directory)
        _ = try await send(receiver.url("/ok"))
        let request = try #require(try receiver.requests().first)
        #expect(request.verified)
        #expect(request.headers["webhook-id"] == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        #expect(request.headers["webhook-timestamp"] == "1800000000")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["user-agent"] == "phigate-webhooks/1")
        #expect(request.headers["cookie"] == nil)
        #expect(request.body == Array("{}".utf8))
    }

    @Test func aClosedPortIsConnectionRefused() async throws {
        let directory = try TemporaryDirectory()
        let receiver = try await LocalReceiver.start(directory: directory)
        let url = receiver.url("/ok")
        await receiver.stop()
        let (outcome, _) = try await send(url)
        #expect(outcome == .failure(.connectionRefused))
    }

    @Test func aSilentReceiverTimesOut() async throws {
        let directory = try TemporaryDirectory()
        let receiver = try await LocalReceiver.start(directory: directory)
        let (outcome, seconds) = try await send(receiver.url("/sleep/5"), timeoutMilliseconds: 600)
        #expect(outcome == .failure(.timeout))
        #expect(seconds < 4)
    }

    /// URLSession on Linux ignores its resource timeout once headers have arrived; the
    /// transport's own deadline must still answer, with the status that did arrive.
    @Test func aTricklingBodyDoesNotHoldTheAttempt() async throws {
        let directory = try TemporaryDirectory()
        let receiver = try await LocalReceiver.start(directory: directory)
        let (outcome, seconds) = try await send(receiver.url("/trickle"), timeoutMilliseconds: 600)
        #expect(outcome == .response(status: 200, retryAfterSeconds: nil))
        #expect(seconds < 4)
    }

    @Test(arguments: [
        ("7", Int64(7)), (" 120 ", 120), ("0", 0), ("Wed, 21 Oct 2015 07:28:00 GMT", nil),
        ("-1", nil), ("1.5", nil), ("", nil), ("99999999999", nil),
    ])
    func parsesRetryAfterSeconds(text: String, seconds: Int64?) {
        #expect(TransportDelegate.retryAfterSeconds(text) == seconds)
    }
}
