import HTTP

/// What a handler returns. The server adds Content-Length, Date, X-Request-Id and Connection.
public struct Response: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// A body produced piece by piece instead of `body`: sent with chunked transfer coding
    /// (close-delimited to HTTP/1.0 clients), pulled from a worker only as fast as the client
    /// reads. Once the head is out the status cannot change, so a failing stream ends the
    /// connection without the final chunk, which clients see as a truncated body.
    public var stream: (any ResponseBodyStream)?
    /// Holds the response back until the gate opens — the audit entry of a disclosure is
    /// durable, for instance — without a thread waiting for it.
    public var gate: (any ResponseGate)?

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body with `application/json` (or another JSON media type).
    ///
    /// The header list has room for the few fields handlers and middleware add (ETag,
    /// Cache-Control, Content-Encoding) without being regrown for each.
    public static func json(
        _ status: Int = 200, _ body: [UInt8], contentType: String = "application/json"
    ) -> Response {
        var headers = HTTPHeaders(reservingCapacity: 4)
        headers.add(name: "Content-Type", value: contentType)
        return Response(status: status, headers: headers, body: body)
    }

    public static func json(_ status: Int = 200, _ text: String, contentType: String = "application/json") -> Response {
        json(status, Array(text.utf8), contentType: contentType)
    }

    public static func text(_ status: Int = 200, _ text: String, contentType: String = "text/plain; charset=utf-8")
        -> Response
    {
        Response(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: Array(text.utf8))
    }
}

/// A response body that is produced while it is sent.
///
/// `next` is called on a worker thread, one call at a time, never concurrently; it may block
/// on I/O. Conformers hold their own state, so they are classes; `@unchecked Sendable` ones must
/// say why sequential calls from different threads are safe.
public protocol ResponseBodyStream: AnyObject, Sendable {
    /// The next piece of the body (may be empty), or nil when the body is complete.
    func next() throws -> [UInt8]?
}

/// Something a response must wait for before any byte of it is sent.
public protocol ResponseGate: Sendable {
    /// Calls `open` exactly once: with nil to send the response as it is, or with a
    /// replacement (a 503, say) to send instead. Must not block; `open` may run on any thread.
    func wait(_ open: @escaping @Sendable (Response?) -> Void)
}
