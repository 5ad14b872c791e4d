import Testing

@testable import TLS

/// Client certificates (mutual TLS) as the server reports them, and the client's checks of
/// the server's certificate.
@Suite(.enabled(if: CertificateFixtures.available, "needs the openssl command line tool"))
struct PeerCertificateTests {
    /// Which client identity is presented, whether the server asks for one, and what the
    /// server must report.
    struct ClientIdentity: Sendable, CustomTestStringConvertible {
        let name: String
        /// Fixture file names of the chain and key, or nil for no client certificate.
        let files: (chain: String, key: String)?
        let serverAsks: Bool
        /// The subject and verification the server reports, or nil for no certificate.
        let expected: (subject: String, verified: Bool)?

        var testDescription: String { name }
    }

    static let identities: [ClientIdentity] = [
        ClientIdentity(
            name: "certificate from the client CA", files: ("client.pem", "client.key"),
            serverAsks: true, expected: (CertificateFixtures.clientSubject, true)),
        ClientIdentity(
            name: "self-signed certificate", files: ("self-signed.pem", "self-signed.key"),
            serverAsks: true, expected: ("CN=impostor", false)),
        ClientIdentity(
            name: "the server's own certificate (wrong purpose)",
            files: ("server.pem", "server.key"), serverAsks: true,
            expected: ("CN=localhost", false)),
        ClientIdentity(name: "no certificate", files: nil, serverAsks: true, expected: nil),
        ClientIdentity(
            name: "certificate the server did not ask for", files: ("client.pem", "client.key"),
            serverAsks: false, expected: nil),
    ]

    @Test(arguments: identities)
    func serverReportsTheClientCertificate(_ identity: ClientIdentity) throws {
        let fixtures = try fixtures()
        var configuration = clientConfiguration(fixtures)
        if let files = identity.files {
            configuration.certificateChainPath = fixtures.path(files.chain)
            configuration.privateKeyPath = fixtures.path(files.key)
        }
        let server = serverConfiguration(fixtures, clientCA: identity.serverAsks)
        let wire = try Wire(server: server, client: configuration)

        // An unverified or missing certificate never fails the handshake.
        #expect(wire.serverError == nil && wire.clientError == nil)
        #expect(wire.server.state == .established)
        let reported = wire.server.peerCertificate
        #expect(reported?.subject == identity.expected?.subject)
        #expect(reported?.verified == identity.expected?.verified)
        #expect(reported?.fingerprintSHA256.count == (identity.expected == nil ? nil : 64))
    }

    @Test func fingerprintMatchesTheOpenSSLTool() throws {
        let fixtures = try fixtures()
        var configuration = clientConfiguration(fixtures)
        configuration.certificateChainPath = fixtures.clientCertificate
        configuration.privateKeyPath = fixtures.clientKey
        let server = serverConfiguration(fixtures, clientCA: true)
        let wire = try Wire(server: server, client: configuration)

        #expect(fixtures.clientFingerprint.count == 64)
        #expect(wire.server.peerCertificate?.fingerprintSHA256 == fixtures.clientFingerprint)
    }

    @Test func clientSeesTheVerifiedServerCertificate() throws {
        let fixtures = try fixtures()
        let wire = try Wire(established: fixtures)

        let server = wire.client.peerCertificate
        #expect(server?.subject == "CN=localhost")
        #expect(server?.verified == true)
        #expect(server?.fingerprintSHA256 != fixtures.clientFingerprint)
    }

    /// A server name or trust anchor, and whether the client must accept the server.
    @Test(arguments: [
        ("localhost", "ca.pem", true),
        ("127.0.0.1", "ca.pem", true),
        ("example.org", "ca.pem", false),
        ("10.0.0.1", "ca.pem", false),
        ("localhost", "other-ca.pem", false),
    ])
    func clientVerifiesTheServer(serverName: String, trusted: String, accepted: Bool) throws {
        let fixtures = try fixtures()
        let configuration = TLSClientConfiguration(trustedCAPath: fixtures.path(trusted))
        let wire = try Wire(
            server: serverConfiguration(fixtures), client: configuration, serverName: serverName)

        if accepted {
            #expect(wire.clientError == nil && wire.serverError == nil)
            #expect(wire.client.state == .established)
        } else {
            // The client refuses the certificate and tells the server with an alert.
            #expect(wire.clientError?.code == .handshake)
            #expect(wire.clientError?.message.contains("server certificate was refused") == true)
            #expect(wire.client.state == .closed)
            #expect(wire.serverError?.code == .handshake)
        }
    }
}
