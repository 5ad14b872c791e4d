import HTTP
import POSIX
import TLS

/// Everything the HTTP server needs to know; built by the App from the configuration file.
public struct ServerConfiguration: Sendable {
    public var address: SocketAddress
    public var limits: HTTPLimits
    /// Time allowed for a whole request head, from its first byte (or from accept).
    public var headerTimeoutSeconds: Int
    /// Time allowed for a whole request body, from the end of its head.
    public var bodyTimeoutSeconds: Int
    /// How long a keep-alive connection may sit between requests; also the longest a response
    /// may wait for a client that does not read.
    public var idleTimeoutSeconds: Int
    /// Open connections across all loops; further ones are answered 503 and closed.
    public var maxConnections: Int
    /// Open connections from one client address (per event loop); further ones get 503.
    public var maxConnectionsPerClient: Int
    /// Event-loop threads, each owning a listener (SO_REUSEPORT) and its connections.
    public var eventLoops: Int
    /// How long in-flight requests may take to finish after a shutdown begins.
    public var shutdownGraceSeconds: Int
    /// Serve HTTPS with this context; plain HTTP when nil.
    public var tls: TLSContext?

    public init(
        address: SocketAddress, limits: HTTPLimits = HTTPLimits(), headerTimeoutSeconds: Int = 10,
        bodyTimeoutSeconds: Int = 30, idleTimeoutSeconds: Int = 30, maxConnections: Int = 4096,
        maxConnectionsPerClient: Int = 1024, eventLoops: Int = 1, shutdownGraceSeconds: Int = 10
    ) {
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.address = address
        self.limits = limits
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxConnections = maxConnections
        self.eventLoops = eventLoops
        self.shutdownGraceSeconds = shutdownGraceSeconds
    }
}
