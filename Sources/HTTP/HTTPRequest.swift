/// The request line and header section of one request, validated by `HTTPRequestParser`.
///
/// Strings are built once from the wire bytes. `path` and `query` are raw: no percent-decoding
/// happens here, so the router decides how each segment is decoded (see `HTTPQuery`).
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive as RFC 9110 9.1 requires ("get" is not "GET").
    public var method: String
    /// The request-target exactly as sent.
    public var target: String
    /// The path of an origin-form or absolute-form target, not percent-decoded
    /// ("/fhir/Patient/1"); "*" for the asterisk form; "/" for an absolute form without a path.
    public var path: String
    /// The query after "?", raw, or nil when the target has no "?".
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// Whether the connection may stay open after the response: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive` and no `close`.
    public var keepAlive: Bool
    /// `Expect: 100-continue` was sent in an HTTP/1.1 request. The server should answer
    /// `100 Continue` (or reject) before reading the body. HTTP/1.0 expectations are ignored.
    public var expectsContinue: Bool

    public init(
        method: String, target: String, path: String, query: String? = nil,
        version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
        keepAlive: Bool = true, expectsContinue: Bool = false
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// A complete request: head, the body after any chunked decoding, and trailer fields.
///
/// Trailers are kept apart from `head.headers` on purpose; they were not seen when the head
/// was checked, so nothing may treat them as header fields.
public struct HTTPRequest: Sendable, Equatable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    public var trailers: HTTPHeaders

    public init(head: HTTPRequestHead, body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders()) {
        self.head = head
        self.body = body
        self.trailers = trailers
    }
}

/// What one call to `HTTPRequestParser.parse` produced.
public enum HTTPParserEvent: Sendable, Equatable {
    /// The head of a request whose body is still to come (Content-Length > 0 or chunked).
    /// The server may answer `100 Continue` or reject the request before reading the body.
    case head(HTTPRequestHead)
    /// A complete request. A request without a body arrives directly as `.request`.
    case request(HTTPRequest)
    /// The input is not an acceptable request. The connection must answer with
    /// `error.status` and close; the parser returns this same failure from then on.
    case failure(HTTPParseError)
}
