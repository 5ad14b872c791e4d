/// A strict, incremental HTTP/1.1 request parser (RFC 9112) for one connection.
///
/// Feed it bytes as they arrive; it returns how many it consumed and at most one event.
/// A head that is wholly inside the input is parsed in place without copying; only a head
/// (or trailer section, or chunk-size line) split across reads is copied into an internal
/// buffer, bounded by the limits. Every byte is examined a bounded number of times, so
/// feeding one byte per call costs the same linear work as feeding the whole request.
///
/// Strictness is the point: the parser sits in front of PHI, where two components that
/// disagree on where a request ends allow request smuggling. Anything ambiguous (bare CR or
/// LF, obs-fold, whitespace before a colon, conflicting framing fields, malformed chunk
/// sizes) is a `.failure` with the status to answer, after which the parser stays failed and
/// the connection must be closed.
///
/// Not thread-safe: a value owned by one connection, which calls `parse` from one place.
public struct HTTPRequestParser: Sendable {
    enum State: Sendable {
        /// Before or inside a request line and header section.
        case head
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        /// After a chunk's data: the CRLF that must follow it.
        case chunkDataEnd(sawCR: Bool)
        case trailers
        case failed(HTTPParseError)
    }

    /// What one reading step did with the input.
    enum Step {
        /// Every byte of the input was consumed without completing an event.
        case needMore
        /// The state changed; continue reading at this index.
        case advance(to: Int)
        case emit(HTTPParserEvent, consumed: Int)
    }

    /// The most body storage reserved before the body's bytes arrive.
    static let initialBodyCapacity = 64 * 1024

    let limits: HTTPLimits
    var state = State.head
    var scanner: SectionScanner
    /// The start of a head, trailer section or chunk-size line that a read split.
    var partial: [UInt8] = []
    /// The head of the request whose body is being read.
    var pendingHead: HTTPRequestHead?
    var body: [UInt8] = []

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
        scanner = SectionScanner(limits: limits)
    }

    /// True between requests: no byte of a next request has arrived (a skipped empty line
    /// between requests does not count). A server may close an idle connection at shutdown.
    public var isIdle: Bool {
        if case .head = state { return scanner.isIdle }
        return false
    }

    /// True while a body (or its trailers) is being read, so the body timeout applies rather
    /// than the header timeout.
    public var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunkSizeLine, .chunkData, .chunkDataEnd, .trailers: return true
        case .head, .failed: return false
        }
    }

    /// Consumes bytes from `input`; returns how many were consumed and at most one event.
    ///
    /// When `event` is nil all of `input` was consumed (a partial request is kept inside).
    /// After `.request`, unconsumed bytes belong to the next pipelined request: call `parse`
    /// again with the remainder. After `.head`, call `parse` again to read the body. After
    /// `.failure`, `consumed` is 0 and every later call returns the same failure.
    public mutating func parse(
        _ input: UnsafeRawBufferPointer
    ) -> (consumed: Int, event: HTTPParserEvent?) {
        var offset = 0
        while true {
            let step: Step
            switch state {
            case .failed(let error):
                return (0, .failure(error))
            case .head:
                step = readHead(input, from: offset)
            case .fixedBody(let remaining):
                step = readFixedBody(input, from: offset, remaining: remaining)
            case .chunkSizeLine:
                step = readChunkSizeLine(input, from: offset)
            case .chunkData(let remaining):
                step = readChunkData(input, from: offset, remaining: remaining)
            case .chunkDataEnd(let sawCR):
                step = readChunkDataEnd(input, from: offset, sawCR: sawCR)
            case .trailers:
                step = readTrailers(input, from: offset)
            }
            switch step {
            case .needMore:
                return (input.count, nil)
            case .advance(let next):
                offset = next
            case .emit(let event, let consumed):
                return (consumed, event)
            }
        }
    }

    private mutating func readHead(_ input: UnsafeRawBufferPointer, from start: Int) -> Step {
        switch scanner.scan(input, from: start) {
        case .failure(let error):
            return fail(error)
        case .needMore(let sectionStart):
            if let sectionStart { appendBytes(&partial, input, sectionStart..<input.count) }
            return .needMore
        case .complete(let sectionStart, let end):
            do throws(HTTPParseError) {
                if partial.isEmpty {
                    let bytes = UnsafeRawBufferPointer(rebasing: input[sectionStart..<end])
                    return try begin(parseHead(bytes), consumed: end)
                }
                appendBytes(&partial, input, sectionStart..<end)
                let buffered = partial
                partial = []
                let parsed = buffered.withUnsafeBytes { bytes in
                    Result { () throws(HTTPParseError) in try parseHead(bytes) }
                }
                return try begin(parsed.get(), consumed: end)
            } catch {
                return fail(error)
            }
        }
    }

    /// A validated head and how its body is framed.
    private struct ParsedHead {
        var head: HTTPRequestHead
        var framing: BodyFraming
    }

    private func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> ParsedHead {
        let (line, fieldsStart) = try RequestLine.parse(bytes)
        var facts = FramingFacts()
        let (headers, _) = try FieldSection.parse(
            bytes, from: fieldsStart, expectedCount: scanner.fieldCount, observer: &facts)
        let decision = try facts.decide(version: line.version, limits: limits)
        let head = HTTPRequestHead(
            method: line.method, target: line.target, path: line.path, query: line.query,
            version: line.version, headers: headers, keepAlive: decision.keepAlive,
            expectsContinue: decision.expectsContinue)
        return ParsedHead(head: head, framing: decision.framing)
    }

    /// Starts reading the body, or completes a request that has none.
    private mutating func begin(_ parsed: consuming ParsedHead, consumed: Int) -> Step {
        let head = parsed.head
        switch parsed.framing {
        case .none:
            reset()
            return .emit(.request(HTTPRequest(head: head)), consumed: consumed)
        case .length(let length):
            // Reserve only a bounded amount up front: a client announcing a large body and
            // then stalling must not make every connection hold the maximum in memory.
            body.reserveCapacity(min(length, Self.initialBodyCapacity))
            state = .fixedBody(remaining: length)
        case .chunked:
            state = .chunkSizeLine
        }
        pendingHead = head
        return .emit(.head(head), consumed: consumed)
    }

    /// Emits the request whose body (and trailers) just ended and gets ready for the next.
    mutating func finish(trailers: HTTPHeaders, consumed: Int) -> Step {
        let request = HTTPRequest(head: pendingHead!, body: body, trailers: trailers)
        reset()
        return .emit(.request(request), consumed: consumed)
    }

    mutating func fail(_ error: HTTPParseError) -> Step {
        state = .failed(error)
        partial = []
        body = []
        pendingHead = nil
        return .emit(.failure(error), consumed: 0)
    }

    private mutating func reset() {
        state = .head
        scanner = SectionScanner(limits: limits)
        partial = []
        body = []
        pendingHead = nil
    }
}
