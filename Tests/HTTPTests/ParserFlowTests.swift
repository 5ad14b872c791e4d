import HTTP
import Testing

/// How the parser hands out pipelined requests, reports its state, and applies limits
/// without waiting for the end of a line.
@Suite("Parser flow")
struct ParserFlowTests {
    private static let first = wire("GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
    private static let second = wire(
        "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
    private static let third = wire(
        "POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n")
    private static let fourth = wire(
        "DELETE /four HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")

    /// One parse call on `bytes[offset...]`.
    private func step(
        _ parser: inout HTTPRequestParser, _ bytes: [UInt8], from offset: Int
    ) -> (consumed: Int, event: HTTPParserEvent?) {
        bytes.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
    }

    @Test("pipelined requests come out in order with exact consumed counts")
    func pipelinedConsumedCounts() {
        let stream = Self.first + Self.second + Self.third + Self.fourth
        let secondHeadLength = Self.second.count - 3
        let thirdHeadLength = Self.third.count - "2\r\nhi\r\n0\r\n\r\n".utf8.count
        // (consumed, event kind, path) for each call, written out by hand.
        let expected: [(Int, String, String)] = [
            (Self.first.count, "request", "/one"),
            (secondHeadLength, "head", "/two"),
            (3, "request", "/two"),
            (thirdHeadLength, "head", "/three"),
            (Self.third.count - thirdHeadLength, "request", "/three"),
            (Self.fourth.count, "request", "/four"),
        ]
        var parser = HTTPRequestParser()
        var offset = 0
        for (consumed, kind, path) in expected {
            let result = step(&parser, stream, from: offset)
            #expect(result.consumed == consumed)
            switch result.event {
            case .request(let request):
                #expect(kind == "request")
                #expect(request.head.path == path)
            case .head(let head):
                #expect(kind == "head")
                #expect(head.path == path)
            case .failure, nil:
                Issue.record("unexpected \(String(describing: result.event))")
            }
            offset += result.consumed
        }
        #expect(offset == stream.count)
        #expect(parser.isIdle)
        let tail = step(&parser, stream, from: offset)
        #expect(tail.consumed == 0 && tail.event == nil)
    }

    @Test("bodies and heads of pipelined requests stay apart")
    func pipelinedBodies() {
        let events = drive(whole(Self.second + Self.third + Self.second))
        let bodies = events.compactMap { event -> String? in
            guard case .request(let snapshot) = event else { return nil }
            return String(decoding: snapshot.body, as: UTF8.self)
        }
        #expect(bodies == ["abc", "hi", "abc"])
        #expect(events.count == 6)
    }

    @Test("idle and body-reading flags follow the request")
    func stateFlags() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle && !parser.isReadingBody)

        let request = wire("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok")
        let split = request.count - 2
        _ = step(&parser, Array(request[..<5]), from: 0)
        #expect(!parser.isIdle && !parser.isReadingBody)

        let head = step(&parser, Array(request[5..<split]), from: 0)
        guard case .head = head.event else {
            Issue.record("expected the head")
            return
        }
        #expect(!parser.isIdle && parser.isReadingBody)

        _ = step(&parser, Array(request[split...].prefix(1)), from: 0)
        #expect(parser.isReadingBody)
        let done = step(&parser, Array(request.suffix(1)), from: 0)
        guard case .request(let complete) = done.event else {
            Issue.record("expected the request")
            return
        }
        #expect(complete.body == wire("ok"))
        #expect(parser.isIdle && !parser.isReadingBody)

        _ = step(&parser, wire("\r\n"), from: 0)
        #expect(parser.isIdle)
        _ = step(&parser, wire("G"), from: 0)
        #expect(!parser.isIdle)
    }

    /// A limit fails on the call that delivers the first byte past it, even though no line
    /// has ended yet.
    struct EarlyLimit: Sendable, CustomTestStringConvertible {
        var name: String
        var limits: HTTPLimits
        var prefix: String
        var crossing: String
        var status: Int
        var testDescription: String { name }
    }

    static let earlyLimits: [EarlyLimit] = [
        EarlyLimit(
            name: "request line", limits: HTTPLimits(maxRequestLineBytes: 16),
            prefix: "GET /0123456789A", crossing: "B", status: 414),
        EarlyLimit(
            name: "header bytes", limits: HTTPLimits(maxHeaderBytes: 20),
            prefix: "GET / HTTP/1.1\r\nHost: a\r\nX-Long: 123", crossing: "4", status: 431),
        EarlyLimit(
            name: "header count", limits: HTTPLimits(maxHeaderCount: 2),
            prefix: "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\n", crossing: "C", status: 431),
        EarlyLimit(
            name: "chunked body", limits: HTTPLimits(maxBodyBytes: 16),
            prefix: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "8\r\n12345678\r\n9\r",
            crossing: "\n", status: 413),
    ]

    @Test("limits fail as soon as they are crossed", arguments: earlyLimits)
    func earlyLimit(_ testCase: EarlyLimit) {
        var parser = HTTPRequestParser(limits: testCase.limits)
        let prefix = wire(testCase.prefix)
        var offset = 0
        while offset < prefix.count {
            let result = step(&parser, prefix, from: offset)
            if case .failure = result.event {
                Issue.record("failed before the limit was crossed")
                return
            }
            offset += result.consumed
        }
        let crossing = step(&parser, wire(testCase.crossing), from: 0)
        guard case .failure(let error) = crossing.event else {
            Issue.record("expected a failure on the crossing byte")
            return
        }
        #expect(error.status == testCase.status)
    }

    @Test("limits are inclusive: a section exactly at each limit is accepted")
    func exactLimits() {
        let head = "GET /ab HTTP/1.1\r\nHost: a\r\nX: 12\r\n\r\n"
        let limits = HTTPLimits(
            maxRequestLineBytes: 16, maxHeaderBytes: 9 + 7 + 2, maxHeaderCount: 2, maxBodyBytes: 0)
        let events = drive(whole(wire(head)), limits: limits)
        #expect(events == [.request(Snapshot("GET", "/ab", headers: ["Host": "a", "X": "12"]))])

        let bodyLimit = HTTPLimits(maxBodyBytes: 4)
        let chunked =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"
        let chunkedEvents = drive(whole(wire(chunked)), limits: bodyLimit)
        guard case .request(let snapshot) = chunkedEvents.last else {
            Issue.record("expected the request")
            return
        }
        #expect(snapshot.body == wire("abcd"))
    }

    @Test("a Content-Length over the limit fails at head time, before any body byte")
    func contentLengthOverLimit() {
        var parser = HTTPRequestParser(limits: HTTPLimits(maxBodyBytes: 100))
        let head = wire("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n")
        let result = step(&parser, head, from: 0)
        guard case .failure(let error) = result.event else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.status == 413)
        #expect(error.code == .bodyTooLarge)
    }

    @Test("a body larger than the initial reservation arrives intact in pieces")
    func largeBody() {
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let head = wire("PUT /bundle HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n")
        let stream = head + body
        let pieces = [Array(stream[..<100]), Array(stream[100..<70_000]), Array(stream[70_000...])]
        let events = drive(pieces)
        #expect(events.count == 2)
        guard case .request(let snapshot) = events.last else {
            Issue.record("expected the request")
            return
        }
        #expect(snapshot.body == body)
    }

    @Test("a large head sent one byte per call parses completely")
    func slowClientIsLinear() {
        let limits = HTTPLimits(maxHeaderBytes: 64 * 1024, maxHeaderCount: 2000)
        var text = "GET / HTTP/1.1\r\nHost: a\r\n"
        for index in 0..<1500 { text += "X-Field-\(index): value\r\n" }
        let events = drive(byteByByte(wire(text + "\r\n")), limits: limits)
        guard case .request(let snapshot) = events.first else {
            Issue.record("expected a request")
            return
        }
        #expect(snapshot.headers.count == 1501)
        #expect(snapshot.headers["x-field-1499"] == "value")
    }
}
