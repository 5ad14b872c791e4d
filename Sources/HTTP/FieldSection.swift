/// Something that inspects each field line while a section is parsed: the framing rules
/// for a header section, the forbidden-name rule for a trailer section.
protocol FieldObserver {
    mutating func observe(
        name: UnsafeRawBufferPointer.SubSequence, value: UnsafeRawBufferPointer.SubSequence
    ) throws(HTTPParseError)
}

/// Parses the field lines of a header or trailer section (RFC 9112 5, RFC 9110 5).
///
/// The caller (after `SectionScanner`) guarantees the bytes from `start` are whole lines
/// ending in CRLF, end with an empty line, contain CR only before LF, and that no line starts
/// with whitespace. This parser checks the rest: a field name of one or more tchar directly
/// followed by ":" (whitespace before the colon is a 400, RFC 9112 5.1), and a value of
/// HTAB, SP, VCHAR and obs-text only, with leading and trailing whitespace removed.
enum FieldSection {
    /// Returns the fields in order and the index just past the final empty line.
    static func parse<Observer: FieldObserver>(
        _ bytes: UnsafeRawBufferPointer, from start: Int, expectedCount: Int,
        observer: inout Observer
    ) throws(HTTPParseError) -> (HTTPHeaders, Int) {
        var headers = HTTPHeaders(reservingCapacity: expectedCount)
        var index = start
        while bytes[index] != ASCII.cr {
            let nameStart = index
            while ASCII.isTokenByte(bytes[index]) { index += 1 }
            let nameEnd = index
            guard bytes[index] == ASCII.colon, nameEnd > nameStart else {
                if nameEnd > nameStart && ASCII.isWhitespace(bytes[index]) {
                    throw .whitespaceBeforeColon
                }
                throw .invalidFieldName
            }
            index += 1

            while ASCII.isWhitespace(bytes[index]) { index += 1 }
            let valueStart = index
            index = ASCII.firstNonValueByte(bytes, from: index)
            guard bytes[index] == ASCII.cr else { throw .invalidFieldValue }
            var valueEnd = index
            while valueEnd > valueStart && ASCII.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
            index += 2

            try observer.observe(
                name: bytes[nameStart..<nameEnd], value: bytes[valueStart..<valueEnd])
            headers.add(
                name: makeString(bytes, nameStart..<nameEnd),
                value: makeString(bytes, valueStart..<valueEnd))
        }
        return (headers, index + 2)
    }
}

/// The trailer rule: trailers stay separate from the header fields, and fields that frame,
/// route, authenticate or describe the request are refused outright (RFC 9110 6.5.1), so a
/// component that merges trailers carelessly still cannot be steered by them.
struct TrailerPolicy: FieldObserver {
    private static let forbidden: [StaticString] = [
        "content-length", "transfer-encoding", "content-type", "content-encoding", "host",
        "connection", "expect", "trailer", "authorization", "cookie",
    ]

    mutating func observe(
        name: UnsafeRawBufferPointer.SubSequence, value: UnsafeRawBufferPointer.SubSequence
    ) throws(HTTPParseError) {
        for forbiddenName in Self.forbidden where ASCII.equalsIgnoringCase(name, forbiddenName) {
            throw .forbiddenTrailer
        }
    }
}

/// The ranges of the non-empty elements of a comma-separated list (RFC 9110 5.6.1), with
/// the whitespace around each element removed.
struct ListElements: Sequence, IteratorProtocol {
    private let bytes: UnsafeRawBufferPointer.SubSequence
    private var index: Int

    init(_ bytes: UnsafeRawBufferPointer.SubSequence) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    mutating func next() -> Range<Int>? {
        let end = bytes.endIndex
        while index < end {
            while index < end && (ASCII.isWhitespace(bytes[index]) || bytes[index] == ASCII.comma) {
                index += 1
            }
            let elementStart = index
            var elementEnd = index
            while index < end && bytes[index] != ASCII.comma {
                if !ASCII.isWhitespace(bytes[index]) { elementEnd = index + 1 }
                index += 1
            }
            if elementEnd > elementStart { return elementStart..<elementEnd }
        }
        return nil
    }
}
