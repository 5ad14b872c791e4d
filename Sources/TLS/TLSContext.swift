internal import COpenSSL

/// The TLS settings shared by many connections: one per server listener, or one per outgoing
/// destination. Owns one `SSL_CTX`, freed in `deinit`.
///
/// Policy, the same for every context: TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE key
/// exchange with AEAD ciphers (GCM, ChaCha20-Poly1305), for TLS 1.3 OpenSSL's default suites,
/// all of which are forward-secret AEADs; no renegotiation, no compression; no session tickets
/// and no session cache, so every connection runs a full handshake and its client certificate
/// is checked afresh. A server selects ALPN "http/1.1" when offered and otherwise proceeds
/// without ALPN, so a client that offers only "h2" still connects and speaks HTTP/1.1 or
/// leaves.
///
/// Thread safety: the `SSL_CTX` is fully configured in `init` and never changed afterwards;
/// OpenSSL allows concurrent `SSL_new` on such a context (its reference count is atomic).
/// That is what makes the `@unchecked Sendable` sound.
public final class TLSContext: @unchecked Sendable {
    /// Which side of the handshake connections made from this context play.
    enum Role: Sendable {
        case server
        case client
    }

    /// TLS 1.2 suites allowed: ECDHE key exchange, AEAD encryption, in server preference order.
    static let forwardSecretCipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// The context. Never null; freed in `deinit`.
    private let pointer: OpaquePointer
    /// Which side connections from this context play.
    let role: Role

    /// Makes a server context from `configuration`, loading the certificate chain, the
    /// permission-checked private key and, when configured, the client CA list.
    ///
    /// Throws `.keyPermissions` for a key file others may access, `.certificate` or
    /// `.privateKey` for a file that is missing or does not parse, `.privateKey` when the key
    /// does not match the certificate, and `.configuration` when OpenSSL refuses a setting.
    public init(server configuration: TLSServerConfiguration) throws(TLSError) {
        self.pointer = try Self.newContext(TLS_server_method())
        self.role = .server

        try applyPolicy(range: (.tls1_2, .tls1_3), cipherList: Self.forwardSecretCipherList)
        phigate_ssl_ctx_set_phigate_options(pointer, 1)
        try useIdentity(
            chainPath: configuration.certificateChainPath, keyPath: configuration.privateKeyPath)
        if let clientCAPath = configuration.clientCAPath {
            try requestClientCertificates(caPath: clientCAPath)
        }
        phigate_ssl_ctx_select_http11(pointer)
    }

    /// Seconds from now until the server certificate's `notAfter`, negative once it has
    /// passed; nil for a context without a certificate of its own.
    public var certificateSecondsRemaining: Int? {
        guard let certificate = SSL_CTX_get0_certificate(pointer) else {
            return nil
        }
        var days: Int32 = 0
        var seconds: Int32 = 0
        // A nil "from" time means now.
        guard ASN1_TIME_diff(&days, &seconds, nil, X509_get0_notAfter(certificate)) == 1 else {
            return nil
        }
        return Int(days) * 86_400 + Int(seconds)
    }

    /// Makes a client context that verifies servers against `configuration`'s trust anchors
    /// and presents its client certificate, if any.
    public init(client configuration: TLSClientConfiguration) throws(TLSError) {
        self.pointer = try Self.newContext(TLS_client_method())
        self.role = .client

        let range = (configuration.minimumVersion, configuration.maximumVersion)
        if let weakCipherList = configuration.weakCipherList {
            SSL_CTX_set_security_level(pointer, 0)
            try applyPolicy(range: range, cipherList: weakCipherList)
        } else {
            try applyPolicy(range: range, cipherList: Self.forwardSecretCipherList)
        }
        phigate_ssl_ctx_set_phigate_options(pointer, 0)
        try trustServers(caPath: configuration.trustedCAPath)
        switch (configuration.certificateChainPath, configuration.privateKeyPath) {
        case (nil, nil):
            break
        case (let chainPath?, let keyPath?):
            try useIdentity(chainPath: chainPath, keyPath: keyPath)
        default:
            throw TLSError(
                .configuration, "a client certificate needs both a chain file and a key file")
        }
        try offerApplicationProtocols(configuration.applicationProtocols)
    }

    deinit {
        SSL_CTX_free(pointer)
    }

    /// A new server-side connection, waiting for the client's first bytes.
    ///
    /// Must be called on a server context; calling it on a client context is a programming
    /// error and stops the process.
    public func makeConnection() throws(TLSError) -> TLSConnection {
        precondition(role == .server, "makeConnection() needs a server context")
        return try TLSConnection(context: self, serverName: nil)
    }

    /// A new client-side connection to `serverName` (a DNS name or an IP address literal),
    /// whose ClientHello is already waiting in `takeOutgoing()`.
    ///
    /// The server's certificate must chain to the trusted CAs and name `serverName`. Must be
    /// called on a client context; calling it on a server context stops the process.
    public func makeConnection(serverName: String) throws(TLSError) -> TLSConnection {
        precondition(role == .client, "makeConnection(serverName:) needs a client context")
        return try TLSConnection(context: self, serverName: serverName)
    }

    /// Lends the `SSL_CTX*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }
}

extension TLSContext {
    /// Allocates an `SSL_CTX` for `method`.
    private static func newContext(_ method: OpaquePointer?) throws(TLSError) -> OpaquePointer {
        guard let context = SSL_CTX_new(method) else {
            throw TLSError.drainingOpenSSLQueue(.configuration, "cannot create a TLS context")
        }
        return context
    }

    /// Sets the protocol range and the TLS 1.2 cipher list.
    private func applyPolicy(
        range: (ProtocolVersion, ProtocolVersion), cipherList: String
    ) throws(TLSError) {
        let lowest = range.0.rawValue
        let highest = range.1.rawValue
        guard phigate_ssl_ctx_set_proto_range(pointer, lowest, highest) == 1 else {
            throw TLSError.drainingOpenSSLQueue(.configuration, "cannot set the protocol range")
        }
        guard SSL_CTX_set_cipher_list(pointer, cipherList) == 1 else {
            throw TLSError.drainingOpenSSLQueue(.configuration, "cannot set the cipher list")
        }
    }

    /// Loads the certificate chain and the private key, and checks that they belong together.
    private func useIdentity(chainPath: String, keyPath: String) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(pointer, chainPath) == 1 else {
            throw TLSError.drainingOpenSSLQueue(
                .certificate, "cannot load the certificate chain from \(chainPath)")
        }
        let key = try PrivateKey(path: keyPath)
        let used = key.withPointer { SSL_CTX_use_PrivateKey(pointer, $0) }
        guard used == 1 else {
            throw TLSError.drainingOpenSSLQueue(
                .privateKey, "the private key in \(keyPath) cannot be used with the certificate")
        }
        guard SSL_CTX_check_private_key(pointer) == 1 else {
            throw TLSError.drainingOpenSSLQueue(
                .privateKey, "the private key in \(keyPath) does not match the certificate")
        }
    }

    /// Asks clients for a certificate issued by the CAs in `caPath` without requiring one.
    ///
    /// The verify callback accepts every chain, so a missing or untrusted client certificate
    /// never fails the handshake; OpenSSL still records the verification result, which
    /// `TLSConnection.peerCertificate` reports. The client must still prove it holds the
    /// certificate's key (CertificateVerify), which OpenSSL enforces regardless.
    private func requestClientCertificates(caPath: String) throws(TLSError) {
        guard SSL_CTX_load_verify_locations(pointer, caPath, nil) == 1 else {
            throw TLSError.drainingOpenSSLQueue(
                .certificate, "cannot load the client CA file \(caPath)")
        }
        guard let names = SSL_load_client_CA_file(caPath) else {
            throw TLSError.drainingOpenSSLQueue(
                .certificate, "cannot read CA names from the client CA file \(caPath)")
        }
        SSL_CTX_set_client_CA_list(pointer, names)
        SSL_CTX_set_verify_depth(pointer, 8)
        SSL_CTX_set_verify(pointer, SSL_VERIFY_PEER, { _, _ in 1 })
    }

    /// Trusts the CAs in `caPath`, or the system's trust store when nil, and requires servers
    /// to present a chain that verifies.
    private func trustServers(caPath: String?) throws(TLSError) {
        if let caPath {
            guard SSL_CTX_load_verify_locations(pointer, caPath, nil) == 1 else {
                throw TLSError.drainingOpenSSLQueue(
                    .certificate, "cannot load the trusted CA file \(caPath)")
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(pointer) == 1 else {
                throw TLSError.drainingOpenSSLQueue(
                    .certificate, "cannot load the system trust store")
            }
        }
        SSL_CTX_set_verify(pointer, SSL_VERIFY_PEER, nil)
    }

    /// Offers `protocols` through ALPN, in wire format (each name prefixed by its length).
    private func offerApplicationProtocols(_ protocols: [String]) throws(TLSError) {
        guard !protocols.isEmpty else {
            return
        }
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSError(.configuration, "an ALPN protocol name must be 1 to 255 bytes")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        // SSL_CTX_set_alpn_protos returns 0 on success, unlike most of the API.
        guard SSL_CTX_set_alpn_protos(pointer, wire, UInt32(wire.count)) == 0 else {
            throw TLSError.drainingOpenSSLQueue(.configuration, "cannot set the ALPN protocols")
        }
    }
}
