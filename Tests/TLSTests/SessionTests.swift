import Testing

@testable import TLS

/// A session's life after (or instead of) the handshake: clients that do not speak TLS,
/// tampered records and closing.
@Suite(.enabled(if: CertificateFixtures.available, "needs the openssl command line tool"))
struct SessionTests {
    @Test(
        arguments: [
            Array("GET / HTTP/1.1\r\n".utf8),
            Array("G".utf8),
            Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8),
            [0x80, 0x2e, 0x01, 0x03, 0x01],
            [0x17, 0x03, 0x03, 0x00, 0x10],
        ] as [[UInt8]])
    func serverRefusesAFirstByteThatIsNotAHandshakeRecord(firstBytes: [UInt8]) throws {
        let fixtures = try fixtures()
        let server = try TLSContext(server: serverConfiguration(fixtures)).makeConnection()

        #expect(try server.receive([]) == [])
        #expect(server.state == .handshaking)
        do {
            _ = try server.receive(firstBytes)
            Issue.record("non-TLS bytes were accepted")
        } catch let error {
            #expect(error.code == .protocolViolation)
        }
        #expect(server.state == .closed)
        #expect(!server.hasOutgoing)
        #expect(throws: TLSError.self) { try server.receive([0x16, 0x03, 0x01]) }
    }

    @Test func plainHTTPResponseIsACompleteHTTP400() {
        let text = String(decoding: TLSConnection.plainHTTPResponse, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")

        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(parts.count == 2)
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(text.contains("\r\nContent-Length: \(parts[1].utf8.count)\r\n"))
    }

    @Test func handshakeRecordFollowedByGarbageFailsTheHandshake() throws {
        let fixtures = try fixtures()
        let server = try TLSContext(server: serverConfiguration(fixtures)).makeConnection()
        let garbage: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]

        do {
            _ = try server.receive(garbage)
            Issue.record("a malformed ClientHello was accepted")
        } catch let error {
            #expect(error.code == .handshake)
            #expect(!error.libraryReasons.isEmpty)
        }
        #expect(server.state == .closed)
        // The server tells the client why with an alert record.
        #expect(server.takeOutgoing().first == 0x15)
    }

    @Test(arguments: [0, 5, 40])
    func tamperedRecordIsAProtocolViolation(flippedOffset: Int) throws {
        let fixtures = try fixtures()
        let wire = try Wire(established: fixtures)
        try wire.client.send(pattern(64))
        var record = wire.client.takeOutgoing()
        record[flippedOffset] ^= 0x01

        do {
            let plaintext = try wire.server.receive(record)
            Issue.record("a tampered record decrypted to \(plaintext.count) bytes")
        } catch let error {
            #expect(error.code == .protocolViolation)
        }
        #expect(wire.server.state == .closed)
        #expect(throws: TLSError.self) { try wire.server.send(pattern(1)) }
    }

    /// Which side closes first: `true` for the client.
    @Test(arguments: [true, false])
    func closeNotifyIsAnsweredAndEndsBothSides(clientCloses: Bool) throws {
        let fixtures = try fixtures()
        let wire = try Wire(established: fixtures)
        let closer = clientCloses ? wire.client : wire.server
        let other = clientCloses ? wire.server : wire.client

        // Data sent just before the close_notify still arrives.
        try closer.send(Array("last words".utf8))
        closer.close()
        #expect(closer.state == .closed)
        #expect(closer.hasOutgoing)
        #expect(throws: TLSError.self) { try closer.send(pattern(1)) }
        let delivered = try other.receive(closer.takeOutgoing())

        #expect(delivered == Array("last words".utf8))
        #expect(other.state == .closed)
        #expect(other.closeNotifyReceived)
        #expect(other.hasOutgoing)
        #expect(try closer.receive(other.takeOutgoing()) == [])
        #expect(closer.closeNotifyReceived)
        #expect(!closer.hasOutgoing && !other.hasOutgoing)
        #expect(throws: TLSError.self) { try closer.receive([0x17, 0x03, 0x03]) }
        #expect(wire.server.negotiatedProtocol == "TLSv1.3")
    }

    @Test func dataArrivingAfterALocalCloseIsDiscarded() throws {
        let fixtures = try fixtures()
        let wire = try Wire(established: fixtures)
        try wire.client.send(pattern(300))
        let inFlight = wire.client.takeOutgoing()

        wire.server.close()
        #expect(try wire.server.receive(inFlight) == [])
        #expect(!wire.server.closeNotifyReceived)
        #expect(try wire.client.receive(wire.server.takeOutgoing()) == [])
        #expect(try wire.server.receive(wire.client.takeOutgoing()) == [])
        #expect(wire.server.closeNotifyReceived)
    }

    @Test func closeDuringTheHandshakeQueuesNothing() throws {
        let fixtures = try fixtures()
        let client = try TLSContext(client: clientConfiguration(fixtures))
            .makeConnection(serverName: "localhost")
        _ = client.takeOutgoing()

        client.close()
        client.close()
        #expect(client.state == .closed)
        #expect(!client.hasOutgoing)
    }
}
