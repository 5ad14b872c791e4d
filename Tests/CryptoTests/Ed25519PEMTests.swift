import Foundation
import Crypto
import Testing

/// PEM encodings of Ed25519 keys: the RFC 8032 TEST 1 key pair, written down in the forms
/// `openssl pkey` prints, and documents that must be refused.
struct Ed25519PEMTests {
    static let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    static let publicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

    static let privatePEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
        -----END PRIVATE KEY-----

        """

    static let publicPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
        -----END PUBLIC KEY-----

        """

    /// An X25519 key: valid PEM, wrong algorithm.
    static let x25519PrivatePEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VuBCIEIJgAj/0VHu9KfvCqLzFsunBvi1Y55bh6LLMYPK1KuKpx
        -----END PRIVATE KEY-----
        """

    static let x25519PublicPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VuAyEARR+ZadDVpfd3h3MnP7ASnP/sHIy+oLFLCU0VR+OquEU=
        -----END PUBLIC KEY-----
        """

    /// An Ed25519 key encrypted with a passphrase: refused without prompting.
    static let encryptedPEM = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhjQEpC0rinQQICCAAw
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEJT4LRdxHhqsEzeh0tmWOtUEQDtf
        7ZlS/ebze3DHZBuSVqEyWBUgc7g9Ag8PhHes6aZ3k5ORgWxnHAkeQ8Qh7qMWN0QE
        7XcEpP7pco2UbVHw4VE=
        -----END ENCRYPTED PRIVATE KEY-----
        """

    @Test func privateKeyWritesPKCS8() throws {
        let key = try Ed25519PrivateKey(rawSeed: hex(Self.seed))
        #expect(try key.pemPKCS8() == Self.privatePEM)
    }

    @Test func privateKeyReadsPKCS8() throws {
        let key = try Ed25519PrivateKey(pem: Self.privatePEM)
        #expect(Hex.encode(key.rawSeed) == Self.seed)
        #expect(Hex.encode(key.publicKey.raw) == Self.publicKey)
    }

    @Test func publicKeyWritesSPKI() throws {
        let key = try Ed25519PublicKey(raw: hex(Self.publicKey))
        #expect(try key.pem() == Self.publicPEM)
    }

    @Test func publicKeyReadsSPKI() throws {
        let key = try Ed25519PublicKey(pem: Self.publicPEM)
        #expect(Hex.encode(key.raw) == Self.publicKey)
    }

    @Test func generatedKeyRoundTrips() throws {
        let key = try Ed25519PrivateKey.generate()
        let reloaded = try Ed25519PrivateKey(pem: key.pemPKCS8())
        #expect(reloaded.rawSeed == key.rawSeed)
        #expect(try Ed25519PublicKey(pem: key.publicKey.pem()) == key.publicKey)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let pem: String
        let code: CryptoError.Code
        var testDescription: String { name }
    }

    static let privateRefusals: [Refusal] = [
        Refusal(name: "empty", pem: "", code: .malformedInput),
        Refusal(name: "not PEM", pem: "hello", code: .malformedInput),
        Refusal(name: "public key", pem: publicPEM, code: .malformedInput),
        Refusal(
            name: "damaged base64",
            pem: privatePEM.replacingOccurrences(of: "MC4CAQAw", with: "MC4CAQA!"),
            code: .malformedInput),
        Refusal(name: "encrypted", pem: encryptedPEM, code: .malformedInput),
        Refusal(name: "X25519", pem: x25519PrivatePEM, code: .invalidKey),
    ]

    static let publicRefusals: [Refusal] = [
        Refusal(name: "empty", pem: "", code: .malformedInput),
        Refusal(name: "private key", pem: privatePEM, code: .malformedInput),
        Refusal(name: "X25519", pem: x25519PublicPEM, code: .invalidKey),
    ]

    @Test(arguments: privateRefusals)
    func privateKeyRefuses(_ refusal: Refusal) {
        #expect { try Ed25519PrivateKey(pem: refusal.pem) } throws: {
            ($0 as? CryptoError)?.code == refusal.code
        }
    }

    @Test(arguments: publicRefusals)
    func publicKeyRefuses(_ refusal: Refusal) {
        #expect { try Ed25519PublicKey(pem: refusal.pem) } throws: {
            ($0 as? CryptoError)?.code == refusal.code
        }
    }

    @Test func errorsCarryNoKeyMaterial() {
        do {
            _ = try Ed25519PrivateKey(pem: Self.x25519PrivatePEM)
            Issue.record("an X25519 key was accepted")
        } catch {
            #expect(!error.description.contains("MC4CAQAw"))
        }
    }
}
