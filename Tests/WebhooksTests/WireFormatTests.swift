import Foundation
import Testing
import TLS

@testable import Webhooks

@Suite("The socket transport's request and response heads")
struct WireFormatTests {
    /// (response head without its blank line, parsed status and Retry-After, or nil)
    static let heads: [(String, ResponseHead?)] = [
        ("HTTP/1.1 200 OK", ResponseHead(status: 200, retryAfterSeconds: nil)),
        ("HTTP/1.0 204", ResponseHead(status: 204, retryAfterSeconds: nil)),
        (
            "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nRetry-After: 7",
            ResponseHead(status: 503, retryAfterSeconds: 7)
        ),
        ("HTTP/1.1 429 x\r\nretry-after:  120 ", ResponseHead(status: 429, retryAfterSeconds: 120)),
        (
            "HTTP/1.1 429 x\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT",
            ResponseHead(status: 429, retryAfterSeconds: nil)
        ),
        (
            "HTTP/1.1 302 Found\r\nLocation: /elsewhere",
            ResponseHead(status: 302, retryAfterSeconds: nil)
        ),
        ("HTTP/1.1 100 Continue", ResponseHead(status: 100, retryAfterSeconds: nil)),
        ("HTTP/2 200 OK", nil),
        ("HTTP/1.1 20 OK", nil),
        ("HTTP/1.1 2000 OK", nil),
        ("HTTP/1.1 999 Odd", nil),
        ("HTTP/1.1 099 Odd", nil),
        ("HTTP/1.1  200 OK", nil),
        ("SSH-2.0-OpenSSH_9.6", nil),
        ("", nil),
    ]

    @Test(arguments: heads)
    func parsesTheStatusLineAndRetryAfter(head: String, expected: ResponseHead?) {
        #expect(ResponseHead(parsing: Array(head.utf8)) == expected)
    }

    /// (bytes, search start, index of the blank line's CR LF CR LF or nil)
    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\n\r\nbody", 0, 15), ("HTTP/1.1 200 OK\r\n\r", 0, nil),
        ("\r\n\r\n", 0, 0), ("ab\r\n\r\n", 2, 2), ("ab\r\n\r\n", 3, nil), ("", 0, nil),
    ] as [(String, Int, Int?)])
    func findsTheEndOfTheHead(text: String, start: Int, expected: Int?) {
        #expect(ResponseHead.headEnd(in: Array(text.utf8), from: start) == expected)
    }

    private func exchange(_ url: String, headers: [(name: String, value: String)]) throws
        -> (WebhookExchange, WebhookExchange.Target)
    {
        let request = WebhookRequest(
            url: try #require(URL(string: url)), headers: headers, body: Array("{}".utf8),
            timeoutMilliseconds: 1_000)
        let context = try TLSContext(client: TLSClientConfiguration())
        let exchange = WebhookExchange(
            request: request, context: context, deadline: Deadline(millisecondsFromNow: 1_000))
        return (exchange, try WebhookExchange.Target(request.url))
    }

    /// (URL, expected request line and host header)
    @Test(arguments: [
        ("https://hooks.example/in", "POST /in HTTP/1.1\r\nhost: hooks.example\r\n"),
        ("https://hooks.example:8443", "POST / HTTP/1.1\r\nhost: hooks.example:8443\r\n"),
        ("http://10.0.0.7:80/a%20b?x=1&y", "POST /a%20b?x=1&y HTTP/1.1\r\nhost: 10.0.0.7\r\n"),
        ("https://[::1]:9000/p", "POST /p HTTP/1.1\r\nhost: [::1]:9000\r\n"),
    ])
    func writesTheRequestLineAndHost(url: String, expectedStart: String) throws {
        let (exchange, target) = try exchange(url, headers: [("webhook-id", "msg_1")])
        let head = String(decoding: try exchange.requestHead(for: target), as: UTF8.self)
        #expect(head.hasPrefix(expectedStart))
        #expect(
            head.hasSuffix(
                "content-length: 2\r\nconnection: close\r\ncontent-type: application/json\r\n"
                    + "webhook-id: msg_1\r\n\r\n"))
    }

    /// Headers that could forge others are refused before anything is sent.
    @Test(arguments: [
        ("webhook-id", "msg_1\r\nx-forged: 1"), ("webhook-id", "msg_1\n"), ("webhook-id", "a\0"),
        ("bad name", "v"), ("x:y", "v"), ("", "v"),
    ])
    func refusesHeadersThatCouldForgeOthers(name: String, value: String) throws {
        let (exchange, target) = try exchange("https://hooks.example/in", headers: [(name, value)])
        let error = #expect(throws: ExchangeFailure.self) {
            try exchange.requestHead(for: target)
        }
        #expect(error?.failure == .network)
        #expect(exchange.run() == .failure(.network))
    }

    /// URLs the transport cannot use: not http(s), no host.
    @Test(arguments: ["ftp://hooks.example/in", "file:///etc/passwd", "https:///in", "mailto:a@b"])
    func refusesURLsItCannotUse(url: String) throws {
        let parsed = try #require(URL(string: url))
        let error = #expect(throws: ExchangeFailure.self) {
            try WebhookExchange.Target(parsed)
        }
        #expect(error?.failure == .network)
    }
}
