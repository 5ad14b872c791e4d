/// How the body of a request is delimited (RFC 9112 6.3).
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// The header fields that decide framing, routing and connection handling, collected while
/// the header section is parsed and judged once it is complete.
///
/// This is the request-smuggling defence. A message is accepted only when every reader
/// would agree on where it ends: Content-Length must be plain digits, repeated only with the
/// same value; Transfer-Encoding must end in `chunked`, applied once, never next to
/// Content-Length, never in HTTP/1.0; exactly one Host in HTTP/1.1 (at most one in 1.0).
struct FramingFacts: FieldObserver {
    private var hostCount = 0
    private var contentLength: Int?
    private var sawTransferEncoding = false
    private var malformedTransferEncoding = false
    private var chunkedCount = 0
    private var lastCodingIsChunked = false
    private var sawOtherCoding = false
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var expectsContinue = false
    private var expectsOther = false

    /// What the head's fields decided.
    struct Decision {
        var framing: BodyFraming
        var keepAlive: Bool
        var expectsContinue: Bool
    }

    mutating func observe(
        name: UnsafeRawBufferPointer.SubSequence, value: UnsafeRawBufferPointer.SubSequence
    ) throws(HTTPParseError) {
        switch name.count {
        case 4 where ASCII.equalsIgnoringCase(name, "host"):
            hostCount += 1
            for byte in value where !ASCII.isHostByte(byte) { throw .invalidHost }
        case 6 where ASCII.equalsIgnoringCase(name, "expect"):
            observeExpect(value)
        case 10 where ASCII.equalsIgnoringCase(name, "connection"):
            observeConnection(value)
        case 14 where ASCII.equalsIgnoringCase(name, "content-length"):
            try observeContentLength(value)
        case 17 where ASCII.equalsIgnoringCase(name, "transfer-encoding"):
            observeTransferEncoding(value)
        default:
            break
        }
    }

    /// Applies the framing rules in a fixed order, so a request breaking several rules always
    /// gets the same answer.
    func decide(version: HTTPVersion, limits: HTTPLimits) throws(HTTPParseError) -> Decision {
        if hostCount == 0 && version == .http1_1 { throw .missingHost }
        if hostCount > 1 { throw .duplicateHost }

        var framing = BodyFraming.none
        if sawTransferEncoding {
            if version == .http1_0 { throw .transferEncodingInHTTP10 }
            if contentLength != nil { throw .conflictingFraming }
            if malformedTransferEncoding || !lastCodingIsChunked || chunkedCount != 1 {
                throw .badTransferEncoding
            }
            if sawOtherCoding { throw .unsupportedTransferCoding }
            framing = .chunked
        } else if let length = contentLength, length > 0 {
            framing = .length(length)
        }

        let isHTTP11 = version == .http1_1
        if isHTTP11 && expectsOther { throw .unsupportedExpectation }
        if case .length(let length) = framing, length > limits.maxBodyBytes {
            throw .bodyTooLarge
        }
        return Decision(
            framing: framing,
            keepAlive: !connectionClose && (isHTTP11 || connectionKeepAlive),
            expectsContinue: isHTTP11 && expectsContinue)
    }

    /// `1*DIGIT`, or a list of identical such values (RFC 9110 8.6); anything else, including
    /// signs, hex, inner spaces, empty elements and values past `Int.max`, is rejected.
    private mutating func observeContentLength(
        _ value: UnsafeRawBufferPointer.SubSequence
    ) throws(HTTPParseError) {
        var index = value.startIndex
        let end = value.endIndex
        repeat {
            let digitsStart = index
            var length = 0
            while index < end && ASCII.isDigit(value[index]) {
                let (shifted, overflowA) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = shifted.addingReportingOverflow(Int(value[index] &- 0x30))
                guard !overflowA && !overflowB else { throw .badContentLength }
                length = sum
                index += 1
            }
            guard index > digitsStart else { throw .badContentLength }
            if let previous = contentLength, previous != length { throw .badContentLength }
            contentLength = length

            while index < end && ASCII.isWhitespace(value[index]) { index += 1 }
            if index < end {
                guard value[index] == ASCII.comma else { throw .badContentLength }
                index += 1
                while index < end && ASCII.isWhitespace(value[index]) { index += 1 }
                guard index < end else { throw .badContentLength }
            }
        } while index < end
    }

    /// Records the codings in order across every Transfer-Encoding line. Parameters are
    /// allowed on codings other than chunked (which are then refused with 501 anyway);
    /// quoted strings are not accepted at all.
    private mutating func observeTransferEncoding(_ value: UnsafeRawBufferPointer.SubSequence) {
        sawTransferEncoding = true
        for element in ListElements(value) {
            var index = element.lowerBound
            while index < element.upperBound && ASCII.isTokenByte(value[index]) { index += 1 }
            let name = value[element.lowerBound..<index]
            while index < element.upperBound && ASCII.isWhitespace(value[index]) { index += 1 }
            let parameters = value[index..<element.upperBound]
            let hasParameters = !parameters.isEmpty
            if name.isEmpty || (hasParameters && parameters.first != ASCII.semicolon) {
                malformedTransferEncoding = true
            }
            for byte in parameters {
                let allowed =
                    ASCII.isTokenByte(byte) || ASCII.isWhitespace(byte)
                    || byte == ASCII.semicolon || byte == ASCII.equals
                if !allowed { malformedTransferEncoding = true }
            }
            if ASCII.equalsIgnoringCase(name, "chunked") {
                if hasParameters { malformedTransferEncoding = true }
                chunkedCount += 1
                lastCodingIsChunked = true
            } else {
                sawOtherCoding = true
                lastCodingIsChunked = false
            }
        }
    }

    private mutating func observeConnection(_ value: UnsafeRawBufferPointer.SubSequence) {
        for element in ListElements(value) {
            let option = value[element]
            if ASCII.equalsIgnoringCase(option, "close") {
                connectionClose = true
            } else if ASCII.equalsIgnoringCase(option, "keep-alive") {
                connectionKeepAlive = true
            }
        }
    }

    /// Only `100-continue` is understood (RFC 9110 10.1.1); any other expectation, or an
    /// empty Expect field, is refused with 417 in HTTP/1.1.
    private mutating func observeExpect(_ value: UnsafeRawBufferPointer.SubSequence) {
        var elements = 0
        for element in ListElements(value) {
            elements += 1
            if ASCII.equalsIgnoringCase(value[element], "100-continue") {
                expectsContinue = true
            } else {
                expectsOther = true
            }
        }
        if elements == 0 { expectsOther = true }
    }
}
