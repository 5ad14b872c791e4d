import HTTP
import Testing

/// One malformed or hostile input and the failure it must produce.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var status: Int
    var code: HTTPParseError.Code
    var limits = HTTPLimits()

    init(
        _ name: String, _ text: String, _ status: Int, _ code: HTTPParseError.Code,
        limits: HTTPLimits = HTTPLimits()
    ) {
        self.init(name, bytes: wire(text), status, code, limits: limits)
    }

    init(
        _ name: String, bytes: [UInt8], _ status: Int, _ code: HTTPParseError.Code,
        limits: HTTPLimits = HTTPLimits()
    ) {
        self.name = name
        self.bytes = bytes
        self.status = status
        self.code = code
        self.limits = limits
    }

    var testDescription: String { name }
}

private let get = "GET / HTTP/1.1\r\nHost: a\r\n"
private let chunkedPost = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
private let small = HTTPLimits(
    maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderCount: 3, maxBodyBytes: 10)

let hostileCases: [HostileCase] = [
    // Framing: Content-Length and Transfer-Encoding.
    HostileCase(
        "CL and TE",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n", 400, .conflictingFraming),
    HostileCase(
        "TE and CL",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
            + "Content-Length: 5\r\n\r\n", 400, .conflictingFraming),
    HostileCase(
        "differing CL fields", get + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400,
        .badContentLength),
    HostileCase("differing CL list", get + "Content-Length: 5, 6\r\n\r\n", 400, .badContentLength),
    HostileCase("CL plus sign", get + "Content-Length: +5\r\n\r\n", 400, .badContentLength),
    HostileCase("CL negative", get + "Content-Length: -1\r\n\r\n", 400, .badContentLength),
    HostileCase("CL hex", get + "Content-Length: 0x5\r\n\r\n", 400, .badContentLength),
    HostileCase("CL inner space", get + "Content-Length:  5 5\r\n\r\n", 400, .badContentLength),
    HostileCase(
        "CL overflow", get + "Content-Length: 99999999999999999999\r\n\r\n", 400,
        .badContentLength),
    HostileCase("CL empty", get + "Content-Length:\r\n\r\n", 400, .badContentLength),
    HostileCase("CL trailing comma", get + "Content-Length: 5,\r\n\r\n", 400, .badContentLength),
    HostileCase("CL decimal", get + "Content-Length: 5.0\r\n\r\n", 400, .badContentLength),
    HostileCase("TE gzip only", get + "Transfer-Encoding: gzip\r\n\r\n", 400, .badTransferEncoding),
    HostileCase(
        "TE chunked not last", get + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400,
        .badTransferEncoding),
    HostileCase(
        "TE chunked twice", get + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400,
        .badTransferEncoding),
    HostileCase(
        "TE chunked in two fields",
        get + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
        .badTransferEncoding),
    HostileCase(
        "TE gzip then chunked", get + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501,
        .unsupportedTransferCoding),
    HostileCase(
        "TE unknown then chunked",
        get + "Transfer-Encoding: foo\r\nTransfer-Encoding: chunked\r\n\r\n",
        501, .unsupportedTransferCoding),
    HostileCase(
        "TE unknown only", get + "Transfer-Encoding: foo\r\n\r\n", 400, .badTransferEncoding),
    HostileCase(
        "TE chunked with parameter", get + "Transfer-Encoding: chunked;x=1\r\n\r\n", 400,
        .badTransferEncoding),
    HostileCase("TE empty", get + "Transfer-Encoding:\r\n\r\n", 400, .badTransferEncoding),
    HostileCase(
        "TE quoted", get + "Transfer-Encoding: \"chunked\"\r\n\r\n", 400, .badTransferEncoding),
    HostileCase(
        "TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
        .transferEncodingInHTTP10),

    // Chunked bodies.
    HostileCase("chunk size not hex", chunkedPost + "g\r\n", 400, .badChunk),
    HostileCase("chunk size empty", chunkedPost + "\r\n", 400, .badChunk),
    HostileCase("chunk size 17 digits", chunkedPost + "00000000000000001\r\n", 400, .badChunk),
    HostileCase("chunk size overflow", chunkedPost + "ffffffffffffffff\r\n", 400, .badChunk),
    HostileCase("chunk size negative", chunkedPost + "-1\r\n", 400, .badChunk),
    HostileCase("chunk size 0x prefix", chunkedPost + "0x5\r\n", 400, .badChunk),
    HostileCase("chunk size trailing space", chunkedPost + "5 \r\nhello\r\n", 400, .badChunk),
    HostileCase("chunk size bare LF", chunkedPost + "5\nhello\r\n", 400, .badLineEnding),
    HostileCase("chunk data without CRLF", chunkedPost + "5\r\nhelloX\r\n", 400, .badChunk),
    HostileCase(
        "chunk data longer than size", chunkedPost + "3\r\nhello\r\n0\r\n\r\n", 400, .badChunk),
    HostileCase("chunk data then bare LF", chunkedPost + "5\r\nhello\n0\r\n\r\n", 400, .badChunk),
    HostileCase(
        "chunk extension too long", chunkedPost + "5;a=" + String(repeating: "x", count: 1100),
        400, .chunkLineTooLong),
    HostileCase("chunk extension empty", chunkedPost + "5;\r\nhello\r\n", 400, .badChunk),
    HostileCase("chunk extension bad value", chunkedPost + "5;a=@\r\nhello\r\n", 400, .badChunk),
    HostileCase("chunk extension open quote", chunkedPost + "5;a=\"x\r\nhello\r\n", 400, .badChunk),
    HostileCase("chunk extension NUL", chunkedPost + "5;a\u{0}\r\nhello\r\n", 400, .badChunk),
    HostileCase("trailer obs-fold", chunkedPost + "0\r\nX-T: a\r\n b\r\n\r\n", 400, .obsFold),
    HostileCase(
        "trailer space before colon", chunkedPost + "0\r\nX-T : a\r\n\r\n", 400,
        .whitespaceBeforeColon),
    HostileCase(
        "trailer Content-Length", chunkedPost + "0\r\nContent-Length: 5\r\n\r\n", 400,
        .forbiddenTrailer),
    HostileCase(
        "trailer Transfer-Encoding", chunkedPost + "0\r\ntransfer-encoding: chunked\r\n\r\n", 400,
        .forbiddenTrailer),
    HostileCase("trailer bare CR", chunkedPost + "0\r\nX-T: a\rb\r\n\r\n", 400, .badLineEnding),

    // Field lines.
    HostileCase(
        "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, .whitespaceBeforeColon),
    HostileCase(
        "tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, .whitespaceBeforeColon),
    HostileCase("obs-fold", get + "X-A: one\r\n two\r\n\r\n", 400, .obsFold),
    HostileCase("obs-fold with tab", get + "X-A: one\r\n\ttwo\r\n\r\n", 400, .obsFold),
    HostileCase(
        "space before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, .obsFold),
    HostileCase("bare CR in value", get + "X-A: a\rb\r\n\r\n", 400, .badLineEnding),
    HostileCase("bare CR ending", get + "X-A: a\r\r\n\r\n", 400, .badLineEnding),
    HostileCase("bare LF endings", "GET / HTTP/1.1\nHost: a\n\n", 400, .badLineEnding),
    HostileCase("bare LF in headers", get + "X-A: a\n\r\n", 400, .badLineEnding),
    HostileCase("bare LF final line", get + "\n", 400, .badLineEnding),
    HostileCase("NUL in value", get + "X-A: a\u{0}b\r\n\r\n", 400, .invalidFieldValue),
    HostileCase("DEL in value", get + "X-A: a\u{7F}b\r\n\r\n", 400, .invalidFieldValue),
    HostileCase("VT in value", get + "X-A: a\u{0B}b\r\n\r\n", 400, .invalidFieldValue),
    HostileCase("ESC in value", get + "X-A: \u{1B}[31m\r\n\r\n", 400, .invalidFieldValue),
    HostileCase("control in name", get + "X\u{1}A: a\r\n\r\n", 400, .invalidFieldName),
    HostileCase("separator in name", get + "X(A): a\r\n\r\n", 400, .invalidFieldName),
    HostileCase("empty name", get + ": a\r\n\r\n", 400, .invalidFieldName),
    HostileCase("missing colon", get + "NoColonHere\r\n\r\n", 400, .invalidFieldName),
    HostileCase("non-ASCII name", get + "X-\u{E9}: a\r\n\r\n", 400, .invalidFieldName),

    // Request line.
    HostileCase("method with separator", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
    HostileCase("method empty", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
    HostileCase("method non-ASCII", "G\u{C9}T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
    HostileCase("method then tab", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
    HostileCase(
        "two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .malformedVersion),
    HostileCase("tab in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase("NUL in target", "GET /a\u{0}b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase(
        "non-ASCII target", "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase("fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase(
        "authority form", "CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase(
        "relative target", "GET fhir/Patient HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
    HostileCase(
        "absolute form with userinfo", "GET http://u@a.example/ HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        .invalidTarget),
    HostileCase(
        "absolute form other scheme", "GET ftp://a.example/ HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        .invalidTarget),
    HostileCase(
        "absolute form empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        .invalidTarget),
    HostileCase("missing version", "GET /\r\nHost: a\r\n\r\n", 400, .malformedVersion),
    HostileCase("version lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, .malformedVersion),
    HostileCase("version suffix", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400, .malformedVersion),
    HostileCase("version no dot", "GET / HTTP/11\r\nHost: a\r\n\r\n", 400, .malformedVersion),
    HostileCase(
        "version trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, .malformedVersion),
    HostileCase("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, .unsupportedVersion),
    HostileCase("HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, .unsupportedVersion),
    HostileCase("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, .unsupportedVersion),
    HostileCase("HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505, .unsupportedVersion),
    HostileCase(
        "bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400, .badLineEnding),
    HostileCase(
        "three leading empty lines", "\r\n\r\n\r\n" + get + "\r\n", 400, .tooManyEmptyLines),
    HostileCase("leading bare LF", "\n" + get + "\r\n", 400, .badLineEnding),

    // Host.
    HostileCase("missing Host", "GET / HTTP/1.1\r\nX-A: a\r\n\r\n", 400, .missingHost),
    HostileCase("duplicate Host", get + "Host: b\r\n\r\n", 400, .duplicateHost),
    HostileCase(
        "duplicate Host in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", 400, .duplicateHost
    ),
    HostileCase("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, .invalidHost),
    HostileCase("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, .invalidHost),
    HostileCase("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, .invalidHost),

    // Expectations.
    HostileCase("Expect other", get + "Expect: 200-ok\r\n\r\n", 417, .unsupportedExpectation),
    HostileCase("Expect empty", get + "Expect:\r\n\r\n", 417, .unsupportedExpectation),
    HostileCase(
        "Expect continue and other", get + "Expect: 100-continue, x\r\n\r\n", 417,
        .unsupportedExpectation),

    // Limits.
    HostileCase(
        "request line over limit",
        "GET /" + String(repeating: "a", count: 40) + " HTTP/1.1\r\n\r\n",
        414, .requestLineTooLong, limits: small),
    HostileCase(
        "request line over limit, no CRLF", "GET /" + String(repeating: "a", count: 40), 414,
        .requestLineTooLong, limits: small),
    HostileCase(
        "header section over limit", get + "X-A: " + String(repeating: "b", count: 60) + "\r\n\r\n",
        431, .headerTooLarge, limits: small),
    HostileCase(
        "header section over limit, no CRLF", get + "X-A: " + String(repeating: "b", count: 60),
        431, .headerTooLarge, limits: small),
    HostileCase(
        "too many headers", get + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, .tooManyHeaders,
        limits: small),
    HostileCase(
        "trailers over header count", chunkedPost + "0\r\nA: 1\r\nB: 2\r\n\r\n", 431,
        .tooManyHeaders, limits: small),
    HostileCase(
        "Content-Length over limit", get + "Content-Length: 11\r\n\r\n", 413, .bodyTooLarge,
        limits: small),
    HostileCase(
        "chunked body over limit", chunkedPost + "5\r\nhello\r\n6\r\n", 413, .bodyTooLarge,
        limits: small),
]

@Suite("Hostile requests")
struct HostileRequestTests {
    @Test(
        "fails with the expected status whole, byte by byte and in random pieces",
        arguments: hostileCases)
    func rejects(_ testCase: HostileCase) {
        let expected = Observed.failure(status: testCase.status, code: testCase.code)
        let wholeEvents = drive(whole(testCase.bytes), limits: testCase.limits)
        #expect(wholeEvents.last == expected)
        #expect(!wholeEvents.contains { if case .request = $0 { true } else { false } })
        #expect(drive(byteByByte(testCase.bytes), limits: testCase.limits) == wholeEvents)
        for seed in UInt64(1)...3 {
            let pieces = randomSplits(testCase.bytes, seed: seed)
            #expect(drive(pieces, limits: testCase.limits) == wholeEvents)
        }
    }

    @Test("the table covers every rejection status")
    func coversStatuses() {
        let statuses = Set(hostileCases.map(\.status))
        #expect(statuses == [400, 413, 414, 417, 431, 501, 505])
        #expect(hostileCases.count >= 45)
    }

    @Test("a failed parser stays failed and consumes nothing more")
    func staysFailed() {
        var parser = HTTPRequestParser()
        let bad = wire("GET / HTTP/1.1\r\nHost : a\r\n\r\n")
        let good = wire("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let first = bad.withUnsafeBytes { parser.parse($0) }
        let second = good.withUnsafeBytes { parser.parse($0) }
        for result in [first, second] {
            #expect(result.consumed == 0)
            guard case .failure(let error) = result.event else {
                Issue.record("expected a failure")
                continue
            }
            #expect(error.code == .whitespaceBeforeColon)
        }
        #expect(!parser.isIdle)
        #expect(!parser.isReadingBody)
    }

    @Test("the reason depends only on the code, so it cannot echo request bytes")
    func reasonIsFixedPerCode() {
        var reasons: [HTTPParseError.Code: String] = [:]
        for testCase in hostileCases {
            var parser = HTTPRequestParser(limits: testCase.limits)
            guard let error = firstFailure(&parser, testCase.bytes) else {
                Issue.record("expected a failure for \(testCase.name)")
                continue
            }
            #expect(error.reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
            #expect(reasons[error.code, default: error.reason] == error.reason)
            reasons[error.code] = error.reason
        }
        #expect(reasons.count == Set(hostileCases.map(\.code)).count)
    }

    private func firstFailure(_ parser: inout HTTPRequestParser, _ bytes: [UInt8])
        -> HTTPParseError?
    {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while true {
                let (consumed, event) = parser.parse(
                    UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                offset += consumed
                switch event {
                case .failure(let error): return error
                case nil: return nil
                case .head, .request: continue
                }
            }
        }
    }
}
