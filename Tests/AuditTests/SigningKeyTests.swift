import Crypto
import Foundation
import Testing

@testable import Audit

@Suite("Audit signing key file")
struct SigningKeyTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test("the first start creates a 0600 key and a matching public key; later starts load it")
    func createThenLoad() throws {
        let directory = try TemporaryDirectory()
        let created = try AuditSigningKey.loadOrCreate(directory: directory.path)
        let keyPath = directory.file(AuditSigningKey.privateKeyFileName)
        #expect(try Self.mode(keyPath) == 0o600)
        let publicPath = directory.file(AuditSigningKey.publicKeyFileName)
        let publicPEM = try String(contentsOfFile: publicPath, encoding: .utf8)
        #expect(try Ed25519PublicKey(pem: publicPEM) == created.publicKey)
        let loaded = try AuditSigningKey.loadOrCreate(directory: directory.path)
        #expect(loaded.privateKey.rawSeed == created.privateKey.rawSeed)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(leftovers == ["audit-signing.key", "audit-signing.pub"])
    }

    @Test("a public key file that does not match the private key is rewritten")
    func repairsPublicKey() throws {
        let directory = try TemporaryDirectory()
        let key = try AuditSigningKey.loadOrCreate(directory: directory.path)
        let publicPath = directory.file(AuditSigningKey.publicKeyFileName)
        let wrongPEM = try Samples.otherKey.publicKey.pem()
        try Data(wrongPEM.utf8).write(to: URL(fileURLWithPath: publicPath))
        _ = try AuditSigningKey.loadOrCreate(directory: directory.path)
        let publicPEM = try String(contentsOfFile: publicPath, encoding: .utf8)
        #expect(try Ed25519PublicKey(pem: publicPEM) == key.publicKey)
    }

    @Test("the verifier key string names the key and parses back")
    func verifierKey() throws {
        let directory = try TemporaryDirectory()
        let key = try AuditSigningKey.loadOrCreate(
            directory: directory.path, keyName: "phigate.example/audit")
        let parts = key.verifierKey.split(separator: "+")
        #expect(parts.count >= 3)
        #expect(parts.first == "phigate.example/audit")
        #expect(parts[1].count == 8)
        let parsed = try #require(SignedNote.parseVerifierKey(key.verifierKey))
        #expect(parsed.publicKey == key.publicKey)
    }

    @Test(
        "a key file that group or others can access is refused (0400 and 0700 are accepted)",
        arguments: [0o644, 0o640, 0o604, 0o660, 0o700, 0o400])
    func refusesLooseModes(mode: Int) throws {
        let directory = try TemporaryDirectory()
        _ = try AuditSigningKey.loadOrCreate(directory: directory.path)
        let keyPath = directory.file(AuditSigningKey.privateKeyFileName)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: keyPath)
        if mode & 0o077 == 0 {
            #expect(throws: Never.self) {
                try AuditSigningKey.loadOrCreate(directory: directory.path)
            }
        } else {
            let error = #expect(throws: AuditError.self) {
                try AuditSigningKey.loadOrCreate(directory: directory.path)
            }
            #expect(error?.code == .insecureKeyFile)
        }
    }

    @Test("a symbolic link in place of the key file is refused")
    func refusesSymlink() throws {
        let directory = try TemporaryDirectory()
        let elsewhere = try TemporaryDirectory()
        _ = try AuditSigningKey.loadOrCreate(directory: elsewhere.path)
        try FileManager.default.createSymbolicLink(
            atPath: directory.file(AuditSigningKey.privateKeyFileName),
            withDestinationPath: elsewhere.file(AuditSigningKey.privateKeyFileName))
        let error = #expect(throws: AuditError.self) {
            try AuditSigningKey.loadOrCreate(directory: directory.path)
        }
        #expect(error?.code == .keyFile)
    }

    @Test("a key file that is not a PEM key is refused")
    func refusesGarbage() throws {
        let directory = try TemporaryDirectory()
        let keyPath = directory.file(AuditSigningKey.privateKeyFileName)
        let created = FileManager.default.createFile(
            atPath: keyPath, contents: Data("not a key".utf8),
            attributes: [.posixPermissions: 0o600])
        #expect(created)
        let error = #expect(throws: AuditError.self) {
            try AuditSigningKey.loadOrCreate(directory: directory.path)
        }
        #expect(error?.code == .keyFile)
    }
}
