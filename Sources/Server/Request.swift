import HTTP
import TLS

/// A complete, parsed request as a handler sees it.
///
/// Built on the connection's event loop; handed to a worker thread when the route runs off the
/// loop. `pathParameters` are percent-decoded; `head.path` is the raw path as received.
public struct Request: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    public var trailers: HTTPHeaders
    /// Values captured by `{name}` segments of the matched route pattern.
    public var pathParameters: [String: String]
    /// The matched route pattern ("/fhir/{type}/{id}"), or "unmatched".
    public var route: String
    /// Echoed from a valid incoming X-Request-Id, otherwise freshly generated.
    public var requestID: String
    public var remoteAddress: String
    /// The certificate the client presented over mutual TLS, if any.
    public var clientCertificate: PeerCertificate?
    /// The request arrived over TLS.
    public var isSecure = false
    /// Values that middleware attaches for later middleware and handlers (the authenticated
    /// principal, for instance), keyed by type.
    public var context: RequestContext

    public init(
        head: HTTPRequestHead, body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders(),
        pathParameters: [String: String] = [:], route: String = "unmatched", requestID: String,
        remoteAddress: String = "", context: RequestContext = RequestContext()
    ) {
        self.head = head
        self.body = body
        self.trailers = trailers
        self.pathParameters = pathParameters
        self.route = route
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.context = context
    }

    public var method: String { head.method }
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }

    /// The Content-Type without parameters, in lower case ("application/json").
    public var mediaType: String? {
        headers["Content-Type"]?.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() }
    }

    /// The decoded query parameters; nil when the query string is malformed.
    public var queryItems: [(name: String, value: String)]? {
        guard let query = head.query, !query.isEmpty else { return [] }
        return HTTPQuery.parse(query)
    }
}

/// A small typed bag for values that middleware passes down the chain.
///
/// A request carries one or two values, so they sit in a short list searched in order rather
/// than in a hashed dictionary.
public struct RequestContext: Sendable {
    /// A struct, not a tuple: arrays of structs are copied through specialised code.
    private struct Entry: Sendable {
        let key: ObjectIdentifier
        var value: any Sendable
    }

    private var entries: [Entry] = []

    public init() {}

    public subscript<T: Sendable>(_ type: T.Type) -> T? {
        get {
            let key = ObjectIdentifier(type)
            for entry in entries where entry.key == key { return entry.value as? T }
            return nil
        }
        set {
            let key = ObjectIdentifier(type)
            let index = entries.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): entries[index].value = value
            case (let index?, nil): entries.remove(at: index)
            case (nil, let value?): entries.append(Entry(key: key, value: value))
            case (nil, nil): break
            }
        }
    }
}
