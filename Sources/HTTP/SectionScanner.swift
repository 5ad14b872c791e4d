/// Finds where a header section (or a trailer section) ends, in input that may arrive in
/// pieces, while enforcing line endings and size limits.
///
/// The scanner looks at each byte once across all calls, so a client sending one byte at a
/// time costs linear work. It checks only what line structure needs: every CR is followed by
/// LF and every LF follows a CR (RFC 9112 2.2: a bare CR or LF is rejected, never repaired),
/// no field line starts with whitespace (obs-fold), and the request line, section size and
/// field count stay within `HTTPLimits`, failing on the byte that crosses a limit. Token and
/// value grammar is checked afterwards, on the complete section, by `RequestLine` and
/// `FieldSection`.
struct SectionScanner: Sendable {
    enum Phase: Sendable, Equatable {
        /// Before the request line: up to `maxLeadingEmptyLines` CRLFs are skipped.
        case leading
        case requestLine
        case fields
    }

    enum Outcome {
        /// All input was scanned. `sectionStart` is where the section's bytes begin in this
        /// input, nil when only skipped empty lines were seen.
        case needMore(sectionStart: Int?)
        /// The section ends just before `end` (after its final empty line).
        case complete(sectionStart: Int, end: Int)
        case failure(HTTPParseError)
    }

    /// RFC 9112 2.2 asks servers to skip at least one empty line before a request line;
    /// phigate skips two and rejects a longer run of them.
    static let maxLeadingEmptyLines = 2

    private(set) var phase: Phase
    private var pendingCR = false
    private var lineBytes = 0
    private var emptyLines = 0
    /// Bytes of field lines seen so far, line endings included; trailers continue the count.
    private(set) var fieldBytes: Int
    /// Field lines seen so far; trailers continue the count.
    private(set) var fieldCount: Int
    private let maxRequestLineBytes: Int
    private let maxHeaderBytes: Int
    private let maxHeaderCount: Int

    /// A scanner for a request, starting before its request line.
    init(limits: HTTPLimits) {
        phase = .leading
        fieldBytes = 0
        fieldCount = 0
        maxRequestLineBytes = limits.maxRequestLineBytes
        maxHeaderBytes = limits.maxHeaderBytes
        maxHeaderCount = limits.maxHeaderCount
    }

    /// A scanner for the trailer section of the request whose head `head` scanned: the
    /// trailers spend what is left of the same byte and count budgets. The empty line that
    /// ends the header section is given back, since the trailers' own empty line replaces
    /// it as the request's one section terminator.
    init(trailersAfter head: SectionScanner) {
        self = head
        fieldBytes -= 2
        phase = .fields
        pendingCR = false
        lineBytes = 0
    }

    /// True until the first byte of a request line (or a CR) has been seen.
    var isIdle: Bool { phase == .leading && !pendingCR }

    /// Scans `input[start...]` and reports whether the section ended in it.
    mutating func scan(_ input: UnsafeRawBufferPointer, from start: Int) -> Outcome {
        var sectionStart: Int? = phase == .leading ? nil : start
        var index = start
        let end = input.count
        while index < end {
            let byte = input[index]
            index += 1
            if phase == .fields {
                fieldBytes += 1
                if fieldBytes > maxHeaderBytes { return .failure(.headerTooLarge) }
            }
            if pendingCR {
                guard byte == ASCII.lf else { return .failure(.badLineEnding) }
                pendingCR = false
                switch phase {
                case .leading:
                    emptyLines += 1
                    if emptyLines > Self.maxLeadingEmptyLines {
                        return .failure(.tooManyEmptyLines)
                    }
                case .requestLine:
                    phase = .fields
                case .fields:
                    if lineBytes == 0 { return .complete(sectionStart: sectionStart!, end: index) }
                }
                lineBytes = 0
                continue
            }
            if byte == ASCII.cr {
                pendingCR = true
                continue
            }
            if byte == ASCII.lf { return .failure(.badLineEnding) }

            if lineBytes == 0 {
                switch phase {
                case .leading:
                    phase = .requestLine
                    sectionStart = index - 1
                case .requestLine:
                    break
                case .fields:
                    if ASCII.isWhitespace(byte) { return .failure(.obsFold) }
                    if fieldCount == maxHeaderCount { return .failure(.tooManyHeaders) }
                    fieldCount += 1
                }
            }
            // The rest of the line up to CR or LF: the common case, a word at a time.
            let runStart = index - 1
            index = ASCII.firstLineBreak(input, from: index, to: end)
            let run = index - runStart
            lineBytes += run
            if phase == .requestLine {
                if lineBytes > maxRequestLineBytes { return .failure(.requestLineTooLong) }
            } else {
                fieldBytes += run - 1
                if fieldBytes > maxHeaderBytes { return .failure(.headerTooLarge) }
            }
        }
        return .needMore(sectionStart: sectionStart)
    }
}
