import Server
import Support

/// A failure under /fhir, rendered as an OperationOutcome.
struct FHIRError: HTTPResponseError, Sendable {
    var status: Int
    /// The FHIR issue-type code (forbidden, not-found, invalid, login, not-supported...).
    var issueCode: String
    var detail: String
    var headers: [(String, String)] = []

    static func invalid(_ detail: String) -> FHIRError { FHIRError(status: 400, issueCode: "invalid", detail: detail) }

    static func notFound(_ type: String, _ id: String) -> FHIRError {
        FHIRError(status: 404, issueCode: "not-found", detail: "No \(type) resource with that id.")
    }

    static func notSupported(_ detail: String) -> FHIRError {
        FHIRError(status: 400, issueCode: "not-supported", detail: detail)
    }
}

/// Renders every error under /fhir as an R4 OperationOutcome with `application/fhir+json`.
struct OperationOutcomeRenderer: ErrorRenderer {
    func render(_ error: any HTTPResponseError, requestID: String) -> Response {
        let code = (error as? FHIRError)?.issueCode ?? Self.issueCode(for: error.status)
        var body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
        body += JSONText.quoted(code) + ",\"diagnostics\":" + JSONText.quoted(error.detail) + "}]"
        body += ",\"id\":" + JSONText.quoted(requestID) + "}"
        var response = Response.json(error.status, body, contentType: FHIRRoutes.contentType)
        for (name, value) in error.headers { response.headers.add(name: name, value: value) }
        return response
    }

    static func issueCode(for status: Int) -> String {
        switch status {
        case 401: "login"
        case 403: "forbidden"
        case 404: "not-found"
        case 405, 415, 501: "not-supported"
        case 408, 503: "transient"
        case 413: "too-costly"
        case 400...499: "invalid"
        default: "exception"
        }
    }
}
