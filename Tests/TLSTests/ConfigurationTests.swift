import Foundation
import Testing

@testable import TLS

/// Server and client contexts refused at start-up, before any connection.
@Suite(.enabled(if: CertificateFixtures.available, "needs the openssl command line tool"))
struct ConfigurationTests {
    /// Fixture file names for a server context and the error code it must throw, or nil for
    /// success.
    @Test(
        arguments: [
            ("server.pem", "server.key", nil, nil),
            ("server.pem", "server.key", "ca.pem", nil),
            ("server.pem", "server-0644.key", nil, TLSError.Code.keyPermissions),
            ("server.pem", "server-0640.key", nil, .keyPermissions),
            ("server.pem", ".", nil, .keyPermissions),
            ("server.pem", "stray.key", nil, .privateKey),
            ("server.pem", "client.key", nil, .privateKey),
            ("server.pem", "server-encrypted.key", nil, .privateKey),
            ("server.pem", "missing.key", nil, .privateKey),
            ("missing.pem", "server.key", nil, .certificate),
            ("server.key", "server.key", nil, .certificate),
            ("server.pem", "server.key", "missing-ca.pem", .certificate),
        ] as [(String, String, String?, TLSError.Code?)])
    func serverContext(
        chain: String, key: String, clientCA: String?, failure: TLSError.Code?
    ) throws {
        let fixtures = try fixtures()
        let configuration = TLSServerConfiguration(
            certificateChainPath: fixtures.path(chain), privateKeyPath: fixtures.path(key),
            clientCAPath: clientCA.map { fixtures.path($0) })

        do {
            let context = try TLSContext(server: configuration)
            #expect(failure == nil, "expected \(failure.map(String.init(describing:)) ?? "")")
            _ = try context.makeConnection()
        } catch let error {
            #expect(error.code == failure, "\(error)")
        }
    }

    @Test func theServerCertificateSaysHowLongItHasLeft() throws {
        let fixtures = try fixtures()
        let context = try TLSContext(
            server: TLSServerConfiguration(
                certificateChainPath: fixtures.serverCertificate, privateKeyPath: fixtures.serverKey))
        // The fixtures are issued for two days, moments ago.
        let remaining = try #require(context.certificateSecondsRemaining)
        #expect(remaining > 2 * 86_400 - 3600 && remaining <= 2 * 86_400)
    }

    @Test func keyPermissionsAreCheckedBeforeTheKeyIsRead() throws {
        let fixtures = try fixtures()
        // A world-readable file that is not a key at all: the mode alone must refuse it.
        let garbage = fixtures.path("garbage-0644.key")
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: garbage))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: garbage)
        let configuration = TLSServerConfiguration(
            certificateChainPath: fixtures.serverCertificate, privateKeyPath: garbage)

        #expect(throws: TLSError.self) { try TLSContext(server: configuration) }
        do {
            _ = try TLSContext(server: configuration)
        } catch let error {
            #expect(error.code == .keyPermissions)
            #expect(error.message.contains("644"))
        }
    }

    @Test func errorMessagesCarryNoKeyMaterial() throws {
        let fixtures = try fixtures()
        let keyText = try String(contentsOfFile: fixtures.strayKey, encoding: .utf8)
        let body = keyText.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
        #expect(body.count > 20)
        let configuration = TLSServerConfiguration(
            certificateChainPath: fixtures.serverCertificate, privateKeyPath: fixtures.strayKey)

        do {
            _ = try TLSContext(server: configuration)
            Issue.record("a key that does not match the certificate was accepted")
        } catch let error {
            #expect(error.code == .privateKey)
            #expect(!error.description.contains(body))
            #expect(!error.description.contains("PRIVATE KEY-----"))
        }
    }

    /// Client contexts: a certificate without a key, a key without a certificate, a bad ALPN
    /// name, a missing trust file.
    @Test(
        arguments: [
            ("ca.pem", nil, nil, ["http/1.1"], nil),
            ("ca.pem", "client.pem", "client.key", ["http/1.1"], nil),
            ("ca.pem", "client.pem", nil, ["http/1.1"], TLSError.Code.configuration),
            ("ca.pem", nil, "client.key", ["http/1.1"], .configuration),
            ("ca.pem", nil, nil, [""], .configuration),
            ("ca.pem", nil, nil, [String(repeating: "x", count: 256)], .configuration),
            ("missing-ca.pem", nil, nil, ["http/1.1"], .certificate),
            ("ca.pem", "client.pem", "stray.key", ["http/1.1"], .privateKey),
        ] as [(String, String?, String?, [String], TLSError.Code?)])
    func clientContext(
        trusted: String, chain: String?, key: String?, protocols: [String],
        failure: TLSError.Code?
    ) throws {
        let fixtures = try fixtures()
        let configuration = TLSClientConfiguration(
            trustedCAPath: fixtures.path(trusted),
            certificateChainPath: chain.map { fixtures.path($0) },
            privateKeyPath: key.map { fixtures.path($0) }, applicationProtocols: protocols)

        do {
            _ = try TLSContext(client: configuration)
            #expect(failure == nil, "expected \(failure.map(String.init(describing:)) ?? "")")
        } catch let error {
            #expect(error.code == failure, "\(error)")
        }
    }
}
