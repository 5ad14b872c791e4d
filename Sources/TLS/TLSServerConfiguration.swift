/// What a TLS server presents and whom it asks for a certificate.
///
/// Paths are read once, when a `TLSContext` is made from the configuration; changing a file
/// afterwards has no effect until a new context is made.
public struct TLSServerConfiguration: Sendable {
    /// PEM file holding the server certificate first, then any intermediates toward the root.
    public var certificateChainPath: String
    /// PEM file holding the private key of the leaf certificate, unencrypted.
    ///
    /// The file must be a regular file that neither group nor others may read or write
    /// (mode 0600 or 0400); otherwise it is refused with `.keyPermissions` before its
    /// contents are read.
    public var privateKeyPath: String
    /// PEM file of the CAs that issue client certificates, or nil for no client certificates.
    ///
    /// When set, the server asks every client for a certificate and checks it against these
    /// CAs, but a client that sends none, or one that does not verify, still completes the
    /// handshake: `TLSConnection.peerCertificate` reports what was presented and whether it
    /// verified, and the application decides per account whether that is enough.
    public var clientCAPath: String?

    public init(certificateChainPath: String, privateKeyPath: String, clientCAPath: String? = nil) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
    }
}
