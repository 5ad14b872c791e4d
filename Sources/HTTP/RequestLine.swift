/// The parsed request line: `method SP request-target SP HTTP-version` (RFC 9112 3).
///
/// Parsing is strict: exactly one SP between the three parts, a method made of tchar, a
/// target of visible ASCII in origin, absolute or asterisk form, and a version of exactly
/// `HTTP/DIGIT.DIGIT`. Well-formed versions other than 1.0 and 1.1 fail with 505; anything
/// else fails with 400. The caller guarantees the line ends with CRLF.
struct RequestLine {
    var method: String
    var target: String
    var path: String
    var query: String?
    var version: HTTPVersion

    /// Parses the request line at the start of `bytes`; returns it and the index just past
    /// its CRLF.
    static func parse(
        _ bytes: UnsafeRawBufferPointer
    ) throws(HTTPParseError) -> (RequestLine, Int) {
        var index = 0
        while ASCII.isTokenByte(bytes[index]) { index += 1 }
        guard index > 0, bytes[index] == ASCII.space else { throw .invalidMethod }
        let method = makeString(bytes, 0..<index)

        let targetStart = index + 1
        index = targetStart
        while bytes[index] != ASCII.space && bytes[index] != ASCII.cr {
            guard ASCII.isTargetByte(bytes[index]) else { throw .invalidTarget }
            index += 1
        }
        let targetEnd = index
        guard targetEnd > targetStart else { throw .invalidTarget }
        guard bytes[index] == ASCII.space else { throw .malformedVersion }

        let versionStart = index + 1
        index = versionStart
        while bytes[index] != ASCII.cr { index += 1 }
        let version = try parseVersion(bytes[versionStart..<index])

        var line = RequestLine(
            method: method, target: makeString(bytes, targetStart..<targetEnd), path: "",
            query: nil, version: version)
        try line.splitTarget(bytes, targetStart..<targetEnd)
        return (line, index + 2)
    }

    /// `HTTP/1.1` or `HTTP/1.0`; 505 for other well-formed versions such as `HTTP/2.0`.
    private static func parseVersion(
        _ bytes: UnsafeRawBufferPointer.SubSequence
    ) throws(HTTPParseError) -> HTTPVersion {
        let start = bytes.startIndex
        guard bytes.count == 8,
            bytes[start] == 0x48, bytes[start + 1] == 0x54, bytes[start + 2] == 0x54,
            bytes[start + 3] == 0x50, bytes[start + 4] == ASCII.slash,
            ASCII.isDigit(bytes[start + 5]),
            bytes[start + 6] == ASCII.dot, ASCII.isDigit(bytes[start + 7])
        else { throw .malformedVersion }
        switch (bytes[start + 5], bytes[start + 7]) {
        case (0x31, 0x31): return .http1_1
        case (0x31, 0x30): return .http1_0
        default: throw .unsupportedVersion
        }
    }

    /// Fills `path` and `query` from the target's form (RFC 9112 3.2). Authority form
    /// (CONNECT) is not served and fails like any other unknown form.
    private mutating func splitTarget(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>
    ) throws(HTTPParseError) {
        let first = bytes[range.lowerBound]
        if first == ASCII.slash {
            splitPathAndQuery(bytes, range)
        } else if first == ASCII.star && range.count == 1 {
            guard method == "OPTIONS" else { throw .invalidTarget }
            path = "*"
        } else {
            try splitAbsoluteForm(bytes, range)
        }
    }

    /// absolute-form: `http[s]://authority[/path][?query]`. A userinfo part ("@") is
    /// rejected as RFC 9110 4.2.4 recommends; the Host header is still required.
    private mutating func splitAbsoluteForm(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>
    ) throws(HTTPParseError) {
        var index = range.lowerBound
        while index < range.upperBound && ASCII.isAlpha(bytes[index]) { index += 1 }
        let scheme = bytes[range.lowerBound..<index]
        guard ASCII.equalsIgnoringCase(scheme, "http") || ASCII.equalsIgnoringCase(scheme, "https"),
            range.upperBound - index > 3, bytes[index] == ASCII.colon,
            bytes[index + 1] == ASCII.slash, bytes[index + 2] == ASCII.slash
        else { throw .invalidTarget }

        let authorityStart = index + 3
        index = authorityStart
        while index < range.upperBound && bytes[index] != ASCII.slash
            && bytes[index] != ASCII.question
        {
            guard ASCII.isHostByte(bytes[index]) else { throw .invalidTarget }
            index += 1
        }
        guard index > authorityStart else { throw .invalidTarget }

        if index < range.upperBound && bytes[index] == ASCII.slash {
            splitPathAndQuery(bytes, index..<range.upperBound)
        } else {
            path = "/"
            if index < range.upperBound {
                query = makeString(bytes, index + 1..<range.upperBound)
            }
        }
    }

    private mutating func splitPathAndQuery(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) {
        var index = range.lowerBound
        while index < range.upperBound && bytes[index] != ASCII.question { index += 1 }
        if index == range.upperBound && range.count == target.utf8.count {
            path = target
            return
        }
        path = makeString(bytes, range.lowerBound..<index)
        if index < range.upperBound {
            query = makeString(bytes, index + 1..<range.upperBound)
        }
    }
}

/// A String from validated wire bytes. Non-UTF-8 bytes (obs-text in a field value) become
/// U+FFFD; ASCII, which is all a request line can hold, is copied as is.
@inline(__always)
func makeString(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
    String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
}
