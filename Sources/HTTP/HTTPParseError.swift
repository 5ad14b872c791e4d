/// Why a request was rejected, as a value the server turns into a response.
///
/// `status` is the response status to send before closing the connection, `code` is a stable
/// machine-readable name for logs and metrics, and `reason` is a short English sentence that
/// is safe to show to the client: it never contains bytes from the request, so nothing a
/// client sent (a header value, a path holding a patient id) is reflected or logged through it.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: Code
    public var reason: String

    public init(status: Int, code: Code, reason: String) {
        self.status = status
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(status) \(code): \(reason)" }

    /// A stable name for one kind of parse failure. A struct rather than an enum so new
    /// kinds can be added without breaking code that switches over the known ones.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        public init(_ rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        public static let badLineEnding = Code("bad_line_ending")
        public static let tooManyEmptyLines = Code("too_many_empty_lines")
        public static let invalidMethod = Code("invalid_method")
        public static let invalidTarget = Code("invalid_target")
        public static let malformedVersion = Code("malformed_version")
        public static let unsupportedVersion = Code("unsupported_version")
        public static let requestLineTooLong = Code("request_line_too_long")
        public static let obsFold = Code("obs_fold")
        public static let whitespaceBeforeColon = Code("whitespace_before_colon")
        public static let invalidFieldName = Code("invalid_field_name")
        public static let invalidFieldValue = Code("invalid_field_value")
        public static let headerTooLarge = Code("header_too_large")
        public static let tooManyHeaders = Code("too_many_headers")
        public static let missingHost = Code("missing_host")
        public static let duplicateHost = Code("duplicate_host")
        public static let invalidHost = Code("invalid_host")
        public static let conflictingFraming = Code("conflicting_framing")
        public static let badContentLength = Code("bad_content_length")
        public static let badTransferEncoding = Code("bad_transfer_encoding")
        public static let transferEncodingInHTTP10 = Code("transfer_encoding_in_http10")
        public static let unsupportedTransferCoding = Code("unsupported_transfer_coding")
        public static let unsupportedExpectation = Code("unsupported_expectation")
        public static let bodyTooLarge = Code("body_too_large")
        public static let badChunk = Code("bad_chunk")
        public static let chunkLineTooLong = Code("chunk_line_too_long")
        public static let forbiddenTrailer = Code("forbidden_trailer")
    }
}

/// The catalogue of failures the parser produces: one place pairs each code with its status
/// and its client-safe reason.
extension HTTPParseError {
    private static func bad(_ code: Code, _ reason: String) -> HTTPParseError {
        HTTPParseError(status: 400, code: code, reason: reason)
    }

    static var badLineEnding: HTTPParseError {
        bad(.badLineEnding, "Lines must end with CRLF; a bare CR or LF is not accepted.")
    }
    static var tooManyEmptyLines: HTTPParseError {
        bad(.tooManyEmptyLines, "Too many empty lines before the request line.")
    }
    static var invalidMethod: HTTPParseError {
        bad(.invalidMethod, "The request method is not a valid token.")
    }
    static var invalidTarget: HTTPParseError {
        bad(.invalidTarget, "The request target is not a valid origin, absolute or asterisk form.")
    }
    static var malformedVersion: HTTPParseError {
        bad(.malformedVersion, "The request line does not end with a valid HTTP version.")
    }
    static var unsupportedVersion: HTTPParseError {
        HTTPParseError(
            status: 505, code: .unsupportedVersion,
            reason: "Only HTTP/1.1 and HTTP/1.0 are supported.")
    }
    static var requestLineTooLong: HTTPParseError {
        HTTPParseError(
            status: 414, code: .requestLineTooLong, reason: "The request line is too long.")
    }
    static var obsFold: HTTPParseError {
        bad(.obsFold, "Folded header lines (obs-fold) are not accepted.")
    }
    static var whitespaceBeforeColon: HTTPParseError {
        bad(.whitespaceBeforeColon, "A field name must be followed directly by its colon.")
    }
    static var invalidFieldName: HTTPParseError {
        bad(.invalidFieldName, "A header field name is not a valid token.")
    }
    static var invalidFieldValue: HTTPParseError {
        bad(.invalidFieldValue, "A header field value contains a control character.")
    }
    static var headerTooLarge: HTTPParseError {
        HTTPParseError(
            status: 431, code: .headerTooLarge, reason: "The header section is too large.")
    }
    static var tooManyHeaders: HTTPParseError {
        HTTPParseError(
            status: 431, code: .tooManyHeaders, reason: "The request has too many header fields.")
    }
    static var missingHost: HTTPParseError {
        bad(.missingHost, "An HTTP/1.1 request must carry a Host header field.")
    }
    static var duplicateHost: HTTPParseError {
        bad(.duplicateHost, "The request carries more than one Host header field.")
    }
    static var invalidHost: HTTPParseError {
        bad(.invalidHost, "The Host header field is not a valid host and port.")
    }
    static var conflictingFraming: HTTPParseError {
        bad(.conflictingFraming, "Content-Length and Transfer-Encoding must not both be present.")
    }
    static var badContentLength: HTTPParseError {
        bad(.badContentLength, "Content-Length is malformed or has conflicting values.")
    }
    static var badTransferEncoding: HTTPParseError {
        bad(.badTransferEncoding, "Transfer-Encoding must end with chunked, applied exactly once.")
    }
    static var transferEncodingInHTTP10: HTTPParseError {
        bad(.transferEncodingInHTTP10, "Transfer-Encoding is not accepted in an HTTP/1.0 request.")
    }
    static var unsupportedTransferCoding: HTTPParseError {
        HTTPParseError(
            status: 501, code: .unsupportedTransferCoding,
            reason: "Only the chunked transfer coding is supported.")
    }
    static var unsupportedExpectation: HTTPParseError {
        HTTPParseError(
            status: 417, code: .unsupportedExpectation,
            reason: "Only the 100-continue expectation is supported.")
    }
    static var bodyTooLarge: HTTPParseError {
        HTTPParseError(status: 413, code: .bodyTooLarge, reason: "The request body is too large.")
    }
    static var badChunk: HTTPParseError {
        bad(.badChunk, "The chunked body is malformed.")
    }
    static var chunkLineTooLong: HTTPParseError {
        bad(.chunkLineTooLong, "A chunk size line or its extensions are too long.")
    }
    static var forbiddenTrailer: HTTPParseError {
        bad(.forbiddenTrailer, "Framing and routing fields are not accepted as trailers.")
    }
}
