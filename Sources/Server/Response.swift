import HTTP

/// What a handler returns. The server adds Content-Length, Date, X-Request-Id and Connection.
public struct Response: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body with `application/json` (or another JSON media type).
    public static func json(
        _ status: Int = 200, _ body: [UInt8], contentType: String = "application/json"
    ) -> Response {
        Response(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: body)
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
