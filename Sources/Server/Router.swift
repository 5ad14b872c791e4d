import HTTP

/// Handles a request. Throw an `HTTPResponseError` for a client-visible failure.
public typealias Handler = @Sendable (Request) throws -> Response

/// Where a route's handler runs.
public enum Execution: Sendable {
    /// On the connection's event loop: only for handlers that never block and finish in microseconds.
    case onLoop
    /// On a worker thread; the loop stops reading that connection until the response returns.
    case onWorker
}

/// Wraps a handler: authentication, authorization, auditing.
public protocol Middleware: Sendable {
    func respond(to request: Request, next: (Request) throws -> Response) throws -> Response
}

/// One method and path pattern, with the handler and what runs around it.
///
/// Patterns are literal segments and `{name}` captures: "/fhir/{type}/{id}". A capture matches
/// exactly one non-empty segment; its value is percent-decoded before the handler sees it.
public struct Route: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case capture(String)
    }

    public let method: String
    public let pattern: String
    public let execution: Execution
    public let middleware: [any Middleware]
    public let errorRenderer: any ErrorRenderer
    public let handler: Handler
    let segments: [Segment]

    public init(
        _ method: String, _ pattern: String, execution: Execution = .onWorker,
        middleware: [any Middleware] = [], errorRenderer: any ErrorRenderer = ProblemJSONRenderer(),
        handler: @escaping Handler
    ) {
        precondition(pattern.hasPrefix("/"), "route patterns start with /")
        self.method = method
        self.pattern = pattern
        self.execution = execution
        self.middleware = middleware
        self.errorRenderer = errorRenderer
        self.handler = handler
        self.segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.hasPrefix("{") && $0.hasSuffix("}") ? .capture(String($0.dropFirst().dropLast())) : .literal(String($0))
        }
    }

    var isStatic: Bool { !segments.contains { if case .capture = $0 { true } else { false } } }
}

/// The outcome of looking a request up.
public enum RouteMatch: Sendable {
    case found(Route, parameters: [String: String])
    /// The path exists for other methods; `allowed` goes in the Allow header.
    case methodNotAllowed(allowed: [String])
    case notFound
    /// A capture held an invalid percent-encoding.
    case badPath
}

/// Immutable after construction; shared by every event loop and worker.
public final class Router: Sendable {
    private let staticRoutes: [String: [Route]]
    private let dynamicRoutes: [Route]
    /// Renders errors for requests that match no route.
    public let fallbackRenderer: any ErrorRenderer

    public init(routes: [Route], fallbackRenderer: any ErrorRenderer = ProblemJSONRenderer()) {
        var table: [String: [Route]] = [:]
        var dynamic: [Route] = []
        for route in routes {
            if route.isStatic { table[route.pattern, default: []].append(route) } else { dynamic.append(route) }
        }
        staticRoutes = table
        dynamicRoutes = dynamic
        self.fallbackRenderer = fallbackRenderer
    }

    /// Finds the route for `method` and raw `path`. HEAD is served by GET routes. Dot segments
    /// ("." and "..", also percent-encoded) are refused rather than resolved: no client has a
    /// reason to send them to an API, and resolving them is how path filters get bypassed.
    public func match(method: String, path: String) -> RouteMatch {
        if let candidates = staticRoutes[path] {
            if let route = Self.pick(candidates, method) { return .found(route, parameters: [:]) }
            return .methodNotAllowed(allowed: Self.allowed(candidates))
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if parts.contains(where: { $0 == "." || $0 == ".." }) { return .badPath }
        var pathMatches: [Route] = []
        var captured: [String: String] = [:]
        var badEncoding = false
        for route in dynamicRoutes where route.segments.count == parts.count {
            guard let values = Self.capture(route.segments, parts, &badEncoding) else { continue }
            if pathMatches.isEmpty { captured = values }
            pathMatches.append(route)
        }
        if badEncoding && pathMatches.isEmpty { return .badPath }
        guard !pathMatches.isEmpty else { return .notFound }
        if let route = Self.pick(pathMatches, method) {
            if route.pattern != pathMatches[0].pattern {
                var ignored = false
                captured = Self.capture(route.segments, parts, &ignored) ?? [:]
            }
            return .found(route, parameters: captured)
        }
        return .methodNotAllowed(allowed: Self.allowed(pathMatches))
    }

    private static func pick(_ routes: [Route], _ method: String) -> Route? {
        routes.first { $0.method == method } ?? (method == "HEAD" ? routes.first { $0.method == "GET" } : nil)
    }

    private static func allowed(_ routes: [Route]) -> [String] {
        var methods = Set(routes.map(\.method))
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.sorted()
    }

    private static func capture(
        _ segments: [Route.Segment], _ parts: ArraySlice<Substring>, _ badEncoding: inout Bool
    ) -> [String: String]? {
        var values: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text):
                guard part == text else { return nil }
            case .capture(let name):
                guard !part.isEmpty else { return nil }
                guard let decoded = HTTPQuery.percentDecode(part), decoded != ".", decoded != "..",
                    !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
                else {
                    badEncoding = true
                    return nil
                }
                values[name] = decoded
            }
        }
        return values
    }
}
