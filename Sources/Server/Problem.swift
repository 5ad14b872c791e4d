import HTTP
import Support

/// An error that knows how it should look to a client.
///
/// Everything a client sees comes from these properties, so they must be safe: no patient data,
/// tokens, SQL or internal paths. Errors that do not conform become a 500 that names only the
/// request id; their detail goes to the log.
public protocol HTTPResponseError: Error {
    var status: Int { get }
    /// A short, constant summary ("Not Found").
    var title: String { get }
    /// A safe, specific explanation.
    var detail: String { get }
    /// A URI naming the problem type; "about:blank" when the status says it all.
    var problemType: String { get }
    /// Headers the response must carry (Allow for 405, WWW-Authenticate for 401...).
    var headers: [(String, String)] { get }
}

extension HTTPResponseError {
    public var problemType: String { "about:blank" }
    public var headers: [(String, String)] { [] }
    public var title: String { HTTPStatus.reasonPhrase(status) }
}

/// A ready-made problem for the common cases.
public struct HTTPProblem: HTTPResponseError, Sendable {
    public var status: Int
    public var title: String
    public var detail: String
    public var problemType: String
    public var headers: [(String, String)]

    public init(
        status: Int, detail: String, title: String? = nil, type: String = "about:blank",
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.title = title ?? HTTPStatus.reasonPhrase(status)
        self.detail = detail
        self.problemType = type
        self.headers = headers
    }

    public static func badRequest(_ detail: String) -> HTTPProblem { HTTPProblem(status: 400, detail: detail) }
    public static func notFound(_ detail: String = "No resource at this path.") -> HTTPProblem {
        HTTPProblem(status: 404, detail: detail)
    }
}

/// Turns errors into responses for one family of routes.
public protocol ErrorRenderer: Sendable {
    func render(_ error: any HTTPResponseError, requestID: String) -> Response
}

/// RFC 9457 `application/problem+json`, the default outside /fhir.
public struct ProblemJSONRenderer: ErrorRenderer {
    public init() {}

    public func render(_ error: any HTTPResponseError, requestID: String) -> Response {
        var body = "{\"type\":" + JSONText.quoted(error.problemType)
        body += ",\"title\":" + JSONText.quoted(error.title)
        body += ",\"status\":" + String(error.status)
        body += ",\"detail\":" + JSONText.quoted(error.detail)
        body += ",\"request_id\":" + JSONText.quoted(requestID) + "}"
        var response = Response.json(error.status, body, contentType: "application/problem+json")
        for (name, value) in error.headers { response.headers.add(name: name, value: value) }
        return response
    }
}

/// The stand-in for an error that did not say how to present itself.
struct InternalServerError: HTTPResponseError {
    var status: Int { 500 }
    var detail: String { "The server failed to handle this request; quote the request id to an administrator." }
}
