/// How an outgoing TLS connection (a webhook delivery, a test client) authenticates the server
/// and, optionally, itself.
///
/// The client always verifies the server's chain and its name; there is no switch to turn
/// verification off.
public struct TLSClientConfiguration: Sendable {
    /// PEM file of the CAs trusted to issue server certificates, or nil for the system's
    /// default trust store.
    public var trustedCAPath: String?
    /// PEM file with a client certificate chain to present, or nil for none.
    public var certificateChainPath: String?
    /// PEM file with the private key of `certificateChainPath`; subject to the same permission
    /// check as a server key.
    public var privateKeyPath: String?
    /// ALPN protocols to offer, most preferred first; empty offers none.
    public var applicationProtocols: [String]

    /// Newest protocol version the client offers. Internal: tests lower it to play an old
    /// client against the server; production clients keep TLS 1.3.
    var maximumVersion: ProtocolVersion = .tls1_3
    /// Oldest protocol version the client accepts. Internal, for the same reason.
    var minimumVersion: ProtocolVersion = .tls1_2
    /// A TLS 1.2 cipher list replacing phigate's forward-secret list, with OpenSSL's security
    /// level set to 0 so that weak choices are really offered. Internal and test-only: it lets
    /// a test play a client the server must refuse.
    var weakCipherList: String?

    public init(
        trustedCAPath: String? = nil, certificateChainPath: String? = nil,
        privateKeyPath: String? = nil, applicationProtocols: [String] = ["http/1.1"]
    ) {
        self.trustedCAPath = trustedCAPath
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.applicationProtocols = applicationProtocols
    }
}

/// A TLS protocol version, with OpenSSL's wire value.
enum ProtocolVersion: Int32, Sendable {
    case tls1_0 = 0x0301
    case tls1_1 = 0x0302
    case tls1_2 = 0x0303
    case tls1_3 = 0x0304
}
