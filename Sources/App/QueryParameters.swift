import Server

/// The one rule for query strings outside `/fhir`: an endpoint names the parameters it takes,
/// and anything else is a 400 rather than silently ignored.
enum QueryParameters {
    /// Refuses a name outside `accepted` and a repeated one. Unknown names are not echoed back.
    static func check(_ items: [(name: String, value: String)], accepted: [String]) throws {
        var seen = Set<String>()
        for (name, _) in items {
            guard accepted.contains(name) else {
                throw HTTPProblem.badRequest(
                    accepted.isEmpty
                        ? "This endpoint takes no parameters."
                        : "Unsupported parameter; the parameters are " + accepted.joined(separator: ", ") + ".")
            }
            // A repeated parameter is ambiguous (either or both?); refuse it rather than pick one.
            guard seen.insert(name).inserted else {
                throw HTTPProblem.badRequest("Each parameter may appear once; \(name) is repeated.")
            }
        }
    }
}

extension Request {
    /// The decoded query when every name is one of `accepted` and none is repeated. Anything
    /// else is a 400: a query that does not decode (a bad percent escape, bytes that are not
    /// UTF-8), a name the endpoint does not define, or a name given twice.
    func parameters(accepted: [String]) throws -> [(name: String, value: String)] {
        guard let items = queryItems else { throw HTTPProblem.badRequest("The query string is malformed.") }
        try QueryParameters.check(items, accepted: accepted)
        return items
    }
}
