import Testing

@testable import TLS

/// Handshakes between a client and a server engine in memory: which protocol versions and
/// cipher suites the server accepts, and application data in both directions.
@Suite(.enabled(if: CertificateFixtures.available, "needs the openssl command line tool"))
struct HandshakeTests {
    @Test(arguments: [1, 16_384, 1 << 20])
    func tls13RoundTripsApplicationDataBothWays(size: Int) throws {
        let fixtures = try fixtures()
        let wire = try Wire(established: fixtures)
        #expect(wire.serverError == nil)
        #expect(wire.clientError == nil)
        #expect(wire.server.state == .established)
        #expect(wire.client.state == .established)
        #expect(wire.server.negotiatedProtocol == "TLSv1.3")
        #expect(wire.client.negotiatedProtocol == "TLSv1.3")

        let request = pattern(size)
        try wire.transfer(request, from: wire.client)
        #expect(wire.receivedByServer == request)
        let response = Array(pattern(size + 7).reversed())
        try wire.transfer(response, from: wire.server)
        #expect(wire.receivedByClient == response)
        #expect(wire.serverError == nil && wire.clientError == nil)
    }

    /// A client restricted in protocol versions or TLS 1.2 suites, and what must happen.
    struct RestrictedClient: Sendable, CustomTestStringConvertible {
        let name: String
        let minimumVersion: ProtocolVersion
        let maximumVersion: ProtocolVersion
        let weakCipherList: String?
        /// The protocol and cipher negotiated, or nil when the server must refuse.
        let expected: (protocol: String, cipher: String)?

        var testDescription: String { name }
    }

    static let restrictedClients: [RestrictedClient] = [
        RestrictedClient(
            name: "TLS 1.2 only, phigate's suites",
            minimumVersion: .tls1_2, maximumVersion: .tls1_2,
            weakCipherList: nil, expected: ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")),
        RestrictedClient(
            name: "TLS 1.2 only, ChaCha20 only", minimumVersion: .tls1_2, maximumVersion: .tls1_2,
            weakCipherList: "ECDHE-RSA-CHACHA20-POLY1305",
            expected: ("TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305")),
        RestrictedClient(
            name: "TLS 1.2 only, AES-256-GCM only",
            minimumVersion: .tls1_2, maximumVersion: .tls1_2,
            weakCipherList: "ECDHE-RSA-AES256-GCM-SHA384",
            expected: ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")),
        RestrictedClient(
            name: "at most TLS 1.1", minimumVersion: .tls1_0, maximumVersion: .tls1_1,
            weakCipherList: "DEFAULT:@SECLEVEL=0", expected: nil),
        RestrictedClient(
            name: "at most TLS 1.0", minimumVersion: .tls1_0, maximumVersion: .tls1_0,
            weakCipherList: "DEFAULT:@SECLEVEL=0", expected: nil),
        RestrictedClient(
            name: "RSA key exchange with GCM", minimumVersion: .tls1_2, maximumVersion: .tls1_2,
            weakCipherList: "AES128-GCM-SHA256", expected: nil),
        RestrictedClient(
            name: "RSA key exchange with CBC", minimumVersion: .tls1_2, maximumVersion: .tls1_2,
            weakCipherList: "AES128-SHA", expected: nil),
        RestrictedClient(
            name: "ECDHE with CBC (no AEAD)", minimumVersion: .tls1_2, maximumVersion: .tls1_2,
            weakCipherList: "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384", expected: nil),
        RestrictedClient(
            name: "finite-field DHE with GCM", minimumVersion: .tls1_2, maximumVersion: .tls1_2,
            weakCipherList: "DHE-RSA-AES128-GCM-SHA256", expected: nil),
    ]

    @Test(arguments: restrictedClients)
    func serverAcceptsOnlyModernForwardSecretSuites(_ client: RestrictedClient) throws {
        let fixtures = try fixtures()
        var configuration = clientConfiguration(fixtures)
        configuration.minimumVersion = client.minimumVersion
        configuration.maximumVersion = client.maximumVersion
        configuration.weakCipherList = client.weakCipherList
        let wire = try Wire(server: serverConfiguration(fixtures), client: configuration)

        if let expected = client.expected {
            #expect(wire.serverError == nil && wire.clientError == nil)
            #expect(wire.server.state == .established)
            #expect(wire.server.negotiatedProtocol == expected.protocol)
            #expect(wire.server.cipher == expected.cipher)
            #expect(wire.client.cipher == expected.cipher)
            try wire.transfer(pattern(100), from: wire.client)
            #expect(wire.receivedByServer == pattern(100))
        } else {
            // The server refuses while reading the ClientHello, and its alert fails the client.
            #expect(wire.serverError?.code == .handshake)
            #expect(wire.server.state == .closed)
            #expect(wire.client.state == .closed)
            #expect(wire.clientError?.code == .handshake)
            #expect(wire.server.negotiatedProtocol == nil)
        }
    }

    @Test(
        arguments: [
            (["http/1.1"], "http/1.1"),
            (["h2", "http/1.1"], "http/1.1"),
            (["http/1.0", "http/1.1", "h2"], "http/1.1"),
            (["h2"], nil),
            ([], nil),
        ] as [([String], String?)])
    func alpnSelectsHTTP11OrNothing(offered: [String], selected: String?) throws {
        let fixtures = try fixtures()
        var configuration = clientConfiguration(fixtures)
        configuration.applicationProtocols = offered
        let wire = try Wire(server: serverConfiguration(fixtures), client: configuration)

        #expect(wire.serverError == nil && wire.clientError == nil)
        #expect(wire.server.state == .established)
        #expect(wire.server.alpn == selected)
        #expect(wire.client.alpn == selected)
    }

    @Test func sendBeforeTheHandshakeCompletesIsRefused() throws {
        let fixtures = try fixtures()
        let client = try TLSContext(client: clientConfiguration(fixtures))
            .makeConnection(serverName: "localhost")
        #expect(client.state == .handshaking)
        #expect(client.hasOutgoing)
        #expect(client.negotiatedProtocol == nil && client.cipher == nil)
        #expect(throws: TLSError.self) { try client.send(pattern(10)) }
        do {
            try client.send(pattern(10))
        } catch let error {
            #expect(error.code == .notEstablished)
        }
    }
}
