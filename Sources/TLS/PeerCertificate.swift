/// The certificate the peer presented in a completed handshake, reduced to what an
/// application decides on.
///
/// On a server this is the client certificate (mutual TLS); on a client, the server's.
public struct PeerCertificate: Sendable, Equatable {
    /// SHA-256 of the certificate's DER encoding, as 64 lowercase hexadecimal digits; the
    /// stable way to pin or look up a certificate.
    public var fingerprintSHA256: String
    /// The subject distinguished name as an RFC 2253 string, for example
    /// `CN=clinic-42,O=Example Health`; non-ASCII characters are kept as UTF-8.
    public var subject: String
    /// Whether the certificate chained to the configured CAs (the client CA file on a server)
    /// and passed OpenSSL's checks (validity dates, key usage, purpose).
    ///
    /// A server never fails a handshake over an unverified client certificate: this flag is
    /// how the application learns of it.
    public var verified: Bool

    public init(fingerprintSHA256: String, subject: String, verified: Bool) {
        self.fingerprintSHA256 = fingerprintSHA256
        self.subject = subject
        self.verified = verified
    }
}
