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
/// A class, so that handing the matched route to a worker retains one object, not each field.
public final class Route: Sendable {
    enum Segment: Sendable, Equatable {
        /// The segment's exact bytes.
        case literal([UInt8])
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
            $0.hasPrefix("{") && $0.hasSuffix("}")
                ? .capture(String($0.dropFirst().dropLast())) : .literal(Array($0.utf8))
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
    /// Renderers for unmatched requests under a path prefix ("/fhir": the prefix itself and
    /// everything below it), where an API promises its own error format.
    private let prefixRenderers: [(prefix: String, renderer: any ErrorRenderer)]

    public init(
        routes: [Route], fallbackRenderer: any ErrorRenderer = ProblemJSONRenderer(),
        prefixRenderers: [(prefix: String, renderer: any ErrorRenderer)] = []
    ) {
        var table: [String: [Route]] = [:]
        var dynamic: [Route] = []
        for route in routes {
            if route.isStatic { table[route.pattern, default: []].append(route) } else { dynamic.append(route) }
        }
        staticRoutes = table
        dynamicRoutes = dynamic
        self.fallbackRenderer = fallbackRenderer
        self.prefixRenderers = prefixRenderers
    }

    /// The renderer for an unmatched request to `path`: the one of the prefix it falls under,
    /// or the fallback.
    public func fallbackRenderer(for path: String) -> any ErrorRenderer {
        for (prefix, renderer) in prefixRenderers
        where path == prefix || (path.hasPrefix(prefix) && path.utf8.dropFirst(prefix.utf8.count).first == 0x2F) {
            return renderer
        }
        return fallbackRenderer
    }

    /// Finds the route for `method` and raw `path`. HEAD is served by GET routes. Dot segments
    /// ("." and "..", also percent-encoded) are refused rather than resolved: no client has a
    /// reason to send them to an API, and resolving them is how path filters get bypassed.
    ///
    /// Runs on the event loop for every request: the path is walked as bytes, with the segment
    /// bounds on the stack, and only the chosen route's captures become strings.
    public func match(method: String, path: String) -> RouteMatch {
        if let candidates = staticRoutes[path] {
            if let route = Self.pick(candidates, method) { return .found(route, parameters: [:]) }
            return .methodNotAllowed(allowed: Self.allowed(candidates))
        }
        var path = path
        return path.withUTF8 { bytes in
            let count = bytes.reduce(0) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: count + 1) { bounds in
                // bounds[i] is the index of the slash before segment i; bounds[count] the end.
                var next = 0
                for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "/") {
                    bounds[next] = index
                    next += 1
                }
                bounds[count] = bytes.count
                let parts = PathParts(bytes: bytes, bounds: UnsafeBufferPointer(bounds), count: count)
                return matchDynamic(method: method, parts)
            }
        }
    }

    private func matchDynamic(method: String, _ parts: PathParts) -> RouteMatch {
        for index in 0..<parts.count where parts.isDotSegment(index) { return .badPath }
        var exact: (route: Route, parameters: [String: String])?
        var getForHead: (route: Route, parameters: [String: String])?
        var pathMatched = false
        var badEncoding = false
        for route in dynamicRoutes where route.segments.count == parts.count {
            guard let values = Self.capture(route.segments, parts, &badEncoding) else { continue }
            pathMatched = true
            if route.method == method {
                exact = (route, values)
                break
            }
            if method == "HEAD" && route.method == "GET" && getForHead == nil { getForHead = (route, values) }
        }
        if let found = exact ?? getForHead { return .found(found.route, parameters: found.parameters) }
        if badEncoding && !pathMatched { return .badPath }
        guard pathMatched else { return .notFound }
        var ignored = false
        let pathMatches = dynamicRoutes.filter {
            $0.segments.count == parts.count && Self.capture($0.segments, parts, &ignored) != nil
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
        _ segments: [Route.Segment], _ parts: PathParts, _ badEncoding: inout Bool
    ) -> [String: String]? {
        var values: [String: String] = [:]
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .literal(let text):
                guard parts.equals(index, text) else { return nil }
            case .capture(let name):
                guard !parts.isEmpty(index) else { return nil }
                guard let decoded = HTTPQuery.percentDecode(parts.text(index)), decoded != ".", decoded != "..",
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

/// The segments of a raw path as byte ranges, valid only inside `Router.match`.
private struct PathParts {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The slash before each segment, then the end of the path.
    let bounds: UnsafeBufferPointer<Int>
    /// How many segments: one per slash.
    let count: Int

    func range(_ index: Int) -> Range<Int> { (bounds[index] + 1)..<bounds[index + 1] }

    func isEmpty(_ index: Int) -> Bool { range(index).isEmpty }

    func equals(_ index: Int, _ literal: [UInt8]) -> Bool {
        let range = range(index)
        return range.count == literal.count && bytes[range].elementsEqual(literal)
    }

    /// "." or "..", which the router refuses before matching.
    func isDotSegment(_ index: Int) -> Bool {
        let range = range(index)
        return (range.count == 1 || range.count == 2) && bytes[range].allSatisfy { $0 == UInt8(ascii: ".") }
    }

    func text(_ index: Int) -> Substring {
        Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[range(index)]), as: UTF8.self))
    }
}
