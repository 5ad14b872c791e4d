import HTTP
import Testing

/// A well-formed input and every event it must produce, in order.
struct ValidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var expected: [Observed]

    init(_ name: String, _ text: String, _ expected: [Observed]) {
        self.init(name, bytes: wire(text), expected)
    }

    init(_ name: String, bytes: [UInt8], _ expected: [Observed]) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }

    var testDescription: String { name }
}

/// The events of a request with a body: its head first, then the whole request.
private func withBody(_ snapshot: Snapshot) -> [Observed] {
    [.head(snapshot.headOnly), .request(snapshot)]
}

private let hostA: HTTPHeaders = ["Host": "a"]

let validCases: [ValidCase] = [
    ValidCase(
        "simple GET", "GET /fhir/Patient/1 HTTP/1.1\r\nHost: example.org\r\n\r\n",
        [.request(Snapshot("GET", "/fhir/Patient/1", headers: ["Host": "example.org"]))]),
    ValidCase(
        "GET with query", "GET /fhir/Patient?name=smith&_count=10 HTTP/1.1\r\nHost: a\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/fhir/Patient?name=smith&_count=10", path: "/fhir/Patient",
                    query: "name=smith&_count=10", headers: hostA))
        ]),
    ValidCase(
        "empty query", "GET /x? HTTP/1.1\r\nHost: a\r\n\r\n",
        [.request(Snapshot("GET", "/x?", path: "/x", query: "", headers: hostA))]),
    ValidCase(
        "percent escapes stay raw", "GET /a%2Fb?q=%20 HTTP/1.1\r\nHost: a\r\n\r\n",
        [
            .request(
                Snapshot("GET", "/a%2Fb?q=%20", path: "/a%2Fb", query: "q=%20", headers: hostA))
        ]),
    ValidCase(
        "POST with Content-Length",
        "POST /fhir/Patient HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        withBody(
            Snapshot(
                "POST", "/fhir/Patient", headers: ["Host": "a", "Content-Length": "5"],
                body: "hello"))),
    ValidCase(
        "POST with Content-Length 0", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        [.request(Snapshot("POST", "/", headers: ["Host": "a", "Content-Length": "0"]))]),
    ValidCase(
        "repeated identical Content-Length",
        "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3, 03\r\n\r\nabc",
        withBody(
            Snapshot(
                "PUT", "/",
                headers: ["Host": "a", "Content-Length": "3", "Content-Length": "3, 03"],
                body: "abc"))),
    ValidCase(
        "chunked with extensions and trailers",
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n6 ; q=\"a \\\"b\\\";c\" ;flag\r\n world\r\n"
            + "0;last\r\nX-Checksum: abc\r\nX-Other:  two words \r\n\r\n",
        withBody(
            Snapshot(
                "POST", "/upload", headers: ["Host": "a", "Transfer-Encoding": "chunked"],
                body: "hello world", trailers: ["X-Checksum": "abc", "X-Other": "two words"]))),
    ValidCase(
        "chunked with hex sizes and no trailers",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "000A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n",
        withBody(
            Snapshot(
                "POST", "/", headers: ["Host": "a", "Transfer-Encoding": "Chunked"],
                body: "0123456789abcdefghijk"))),
    ValidCase(
        "chunked list with empty elements",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked ,\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        withBody(
            Snapshot(
                "POST", "/", headers: ["Host": "a", "Transfer-Encoding": ", chunked ,"], body: "x"))
    ),
    ValidCase(
        "HTTP/1.0 without Host closes", "GET / HTTP/1.0\r\n\r\n",
        [.request(Snapshot("GET", "/", version: .http1_0, headers: [:], keepAlive: false))]),
    ValidCase(
        "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        [
            .request(
                Snapshot("GET", "/", version: .http1_0, headers: ["Connection": "Keep-Alive"]))
        ]),
    ValidCase(
        "HTTP/1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/", version: .http1_0, headers: ["Connection": "keep-alive, close"],
                    keepAlive: false))
        ]),
    ValidCase(
        "HTTP/1.0 with body", "POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi",
        withBody(
            Snapshot(
                "POST", "/", version: .http1_0, headers: ["Content-Length": "2"], keepAlive: false,
                body: "hi"))),
    ValidCase(
        "HTTP/1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/", headers: ["Host": "a", "Connection": "close"], keepAlive: false))
        ]),
    ValidCase(
        "HTTP/1.1 close among options",
        "GET / HTTP/1.1\r\nHost: a\r\nconnection: Upgrade, CLOSE\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/", headers: ["Host": "a", "connection": "Upgrade, CLOSE"],
                    keepAlive: false))
        ]),
    ValidCase(
        "absolute form",
        "GET http://example.org/fhir/Patient?x=1 HTTP/1.1\r\nHost: example.org\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "http://example.org/fhir/Patient?x=1", path: "/fhir/Patient",
                    query: "x=1",
                    headers: ["Host": "example.org"]))
        ]),
    ValidCase(
        "absolute form without path", "GET HTTPS://example.org:8443 HTTP/1.1\r\nHost: a\r\n\r\n",
        [.request(Snapshot("GET", "HTTPS://example.org:8443", path: "/", headers: hostA))]),
    ValidCase(
        "absolute form with query only", "GET http://[::1]:80?q HTTP/1.1\r\nHost: a\r\n\r\n",
        [.request(Snapshot("GET", "http://[::1]:80?q", path: "/", query: "q", headers: hostA))]),
    ValidCase(
        "OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        [.request(Snapshot("OPTIONS", "*", headers: hostA))]),
    ValidCase(
        "Expect 100-continue",
        "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\ndata",
        withBody(
            Snapshot(
                "PUT", "/x",
                headers: ["Host": "a", "Expect": "100-Continue", "Content-Length": "4"],
                expectsContinue: true, body: "data"))),
    ValidCase(
        "Expect 100-continue without body",
        "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/", headers: ["Host": "a", "Expect": "100-continue"],
                    expectsContinue: true))
        ]),
    ValidCase(
        "HTTP/1.0 ignores Expect", "GET / HTTP/1.0\r\nExpect: 100-continue, other\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/", version: .http1_0, headers: ["Expect": "100-continue, other"],
                    keepAlive: false))
        ]),
    ValidCase(
        "two leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        [.request(Snapshot("GET", "/", headers: hostA))]),
    ValidCase(
        "whitespace around values is trimmed",
        "GET / HTTP/1.1\r\nHost:a\r\nX-A: \t value with  inner \t \r\n"
            + "X-Empty:\r\nX-Blank:   \r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/",
                    headers: [
                        "Host": "a", "X-A": "value with  inner", "X-Empty": "", "X-Blank": "",
                    ]))
        ]),
    ValidCase(
        "names kept as sent and repeated fields kept apart",
        "GET / HTTP/1.1\r\nhOsT: a\r\nAccept: a\r\naccept: b\r\n\r\n",
        [.request(Snapshot("GET", "/", headers: ["hOsT": "a", "Accept": "a", "accept": "b"]))]),
    ValidCase(
        "obs-text that is UTF-8",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Name: Caf\u{E9} \u{1F600}\r\n\r\n",
        [.request(Snapshot("GET", "/", headers: ["Host": "a", "X-Name": "Caf\u{E9} \u{1F600}"]))]),
    ValidCase(
        "obs-text that is not UTF-8",
        bytes: wire("GET / HTTP/1.1\r\nHost: a\r\nX-Raw: a") + [0xFF, 0x80] + wire("b\r\n\r\n"),
        [.request(Snapshot("GET", "/", headers: ["Host": "a", "X-Raw": "a\u{FFFD}\u{FFFD}b"]))]),
    ValidCase(
        "method tokens are case-sensitive", "get / HTTP/1.1\r\nHost: a\r\n\r\n",
        [.request(Snapshot("get", "/", headers: hostA))]),
    ValidCase(
        "extension method with token characters", "M-SEARCH!~ / HTTP/1.1\r\nHost: a\r\n\r\n",
        [.request(Snapshot("M-SEARCH!~", "/", headers: hostA))]),
    ValidCase(
        "Host with IPv6 literal and port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        [.request(Snapshot("GET", "/", headers: ["Host": "[::1]:8080"]))]),
    ValidCase(
        "empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
        [.request(Snapshot("GET", "/", headers: ["Host": ""]))]),
    ValidCase(
        "target with sub-delims", "GET /a/b;c=d,e?x=$&y='*' HTTP/1.1\r\nHost: a\r\n\r\n",
        [
            .request(
                Snapshot(
                    "GET", "/a/b;c=d,e?x=$&y='*'", path: "/a/b;c=d,e", query: "x=$&y='*'",
                    headers: hostA))
        ]),
]

@Suite("Valid requests")
struct ValidRequestTests {
    @Test("parses to the expected events", arguments: validCases)
    func parses(_ testCase: ValidCase) {
        #expect(drive(whole(testCase.bytes)) == testCase.expected)
    }

    @Test("parses identically one byte at a time", arguments: validCases)
    func byteAtATime(_ testCase: ValidCase) {
        #expect(drive(byteByByte(testCase.bytes)) == testCase.expected)
    }

    @Test("parses identically in random pieces", arguments: validCases)
    func randomPieces(_ testCase: ValidCase) {
        for seed in UInt64(1)...8 {
            let pieces = randomSplits(testCase.bytes, seed: seed, maxPiece: 1 + Int(seed) * 3)
            #expect(drive(pieces) == testCase.expected, "seed \(seed)")
        }
    }

    @Test("parses identically when every valid case follows the others on one connection")
    func allPipelined() {
        let stream = validCases.flatMap(\.bytes)
        let expected = validCases.flatMap(\.expected)
        #expect(drive(whole(stream)) == expected)
        #expect(drive(byteByByte(stream)) == expected)
        #expect(drive(randomSplits(stream, seed: 42, maxPiece: 64)) == expected)
    }
}
