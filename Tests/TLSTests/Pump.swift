import Testing

@testable import TLS

/// A client and a server engine wired together in memory: what one side emits is fed to the
/// other until neither has anything left to say.
final class Wire {
    let client: TLSConnection
    let server: TLSConnection
    /// Application bytes each side has decrypted so far.
    private(set) var receivedByServer: [UInt8] = []
    private(set) var receivedByClient: [UInt8] = []
    /// The first error each side's `receive` threw, if any.
    private(set) var serverError: TLSError?
    private(set) var clientError: TLSError?

    init(client: TLSConnection, server: TLSConnection) {
        self.client = client
        self.server = server
    }

    /// Makes both engines from fresh contexts and runs the handshake to its end.
    convenience init(
        server configuration: TLSServerConfiguration,
        client clientConfiguration: TLSClientConfiguration, serverName: String = "localhost"
    ) throws {
        let serverContext = try TLSContext(server: configuration)
        let clientContext = try TLSContext(client: clientConfiguration)
        self.init(
            client: try clientContext.makeConnection(serverName: serverName),
            server: try serverContext.makeConnection())
        pump()
    }

    /// The default pair: a server without client certificates, a client trusting the test CA.
    convenience init(established fixtures: CertificateFixtures) throws {
        try self.init(server: serverConfiguration(fixtures), client: clientConfiguration(fixtures))
    }

    /// Moves bytes both ways until both sides are quiet or one side has failed.
    func pump() {
        for _ in 0..<1_000 {
            var moved = false
            if client.hasOutgoing {
                moved = true
                let bytes = client.takeOutgoing()
                if serverError == nil {
                    deliver(bytes, to: server, into: &receivedByServer, error: &serverError)
                }
            }
            if server.hasOutgoing {
                moved = true
                let bytes = server.takeOutgoing()
                if clientError == nil {
                    deliver(bytes, to: client, into: &receivedByClient, error: &clientError)
                }
            }
            if !moved {
                return
            }
        }
        Issue.record("the engines kept talking for 1000 rounds")
    }

    /// Sends `bytes` from `sender` and pumps until they have arrived.
    func transfer(_ bytes: [UInt8], from sender: TLSConnection) throws {
        try sender.send(bytes)
        pump()
    }

    /// Forgets what each side received so far.
    func clearReceived() {
        receivedByServer = []
        receivedByClient = []
    }

    private func deliver(
        _ bytes: [UInt8], to receiver: TLSConnection, into received: inout [UInt8],
        error: inout TLSError?
    ) {
        do {
            received += try receiver.receive(bytes)
        } catch let failure {
            error = failure
        }
    }
}

extension TLSConnection {
    /// `receive` for a byte array.
    func receive(_ bytes: [UInt8]) throws(TLSError) -> [UInt8] {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(TLSError) in try receive(buffer) }
        }
        return try result.get()
    }

    /// `send` for a byte array.
    func send(_ bytes: [UInt8]) throws(TLSError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(TLSError) in try send(buffer) }
        }
        try result.get()
    }
}

/// The shared fixtures, or a thrown error naming why they could not be made.
func fixtures() throws -> CertificateFixtures {
    try CertificateFixtures.shared.get()
}

/// A server configuration over the fixtures' server identity.
func serverConfiguration(
    _ fixtures: CertificateFixtures, clientCA: Bool = false
) -> TLSServerConfiguration {
    TLSServerConfiguration(
        certificateChainPath: fixtures.serverCertificate, privateKeyPath: fixtures.serverKey,
        clientCAPath: clientCA ? fixtures.caCertificate : nil)
}

/// A client configuration trusting the fixtures' CA.
func clientConfiguration(_ fixtures: CertificateFixtures) -> TLSClientConfiguration {
    TLSClientConfiguration(trustedCAPath: fixtures.caCertificate)
}

/// `count` bytes of a repeating, position-dependent pattern, so that a lost, duplicated or
/// reordered chunk changes the result.
func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
}
