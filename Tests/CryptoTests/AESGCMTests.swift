import Crypto
import Testing

/// AES-256-GCM: known answers from the GCM specification (McGrew and Viega, test cases 13, 14
/// and 16) opened through `open`, round trips, and every kind of tampering.
struct AESGCMTests {
    struct KnownAnswer: Sendable, CustomTestStringConvertible {
        let name: String
        let key: String
        let nonce: String
        let plaintext: String
        let aad: String
        let ciphertext: String
        let tag: String
        var testDescription: String { name }
    }

    static let knownAnswers: [KnownAnswer] = [
        KnownAnswer(
            name: "test case 13", key: String(repeating: "00", count: 32),
            nonce: String(repeating: "00", count: 12), plaintext: "", aad: "", ciphertext: "",
            tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        KnownAnswer(
            name: "test case 14", key: String(repeating: "00", count: 32),
            nonce: String(repeating: "00", count: 12),
            plaintext: String(repeating: "00", count: 16), aad: "",
            ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
            tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        KnownAnswer(
            name: "test case 16",
            key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            nonce: "cafebabefacedbaddecaf888",
            plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    @Test(arguments: knownAnswers)
    func opensKnownAnswer(_ vector: KnownAnswer) throws {
        let sealed = hex(vector.nonce + vector.ciphertext + vector.tag)
        let opened = try AESGCM.open(sealed, key: hex(vector.key), aad: hex(vector.aad))
        #expect(Hex.encode(opened) == vector.plaintext)
    }

    static let key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

    @Test(arguments: [0, 1, 15, 16, 17, 20, 1000])
    func roundTrip(_ length: Int) throws {
        let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let aad = ascii("user:42")
        let sealed = try AESGCM.seal(plaintext, key: Self.key, aad: aad)
        #expect(sealed.count == 12 + length + 16)
        #expect(try AESGCM.open(sealed, key: Self.key, aad: aad) == plaintext)
    }

    @Test func nonceIsFreshEachTime() throws {
        let first = try AESGCM.seal(ascii("seed"), key: Self.key)
        let second = try AESGCM.seal(ascii("seed"), key: Self.key)
        #expect(first.prefix(12) != second.prefix(12))
        #expect(first != second)
    }

    /// Alterations of a sealed box of 20 plaintext bytes (nonce 0..<12, ciphertext 12..<32,
    /// tag 32..<48), sealed with AAD "user:42".
    struct Tamper: Sendable, CustomTestStringConvertible {
        let name: String
        let byteIndex: Int?
        let aad: [UInt8]
        let truncateTo: Int?
        var testDescription: String { name }
    }

    static let tampers: [Tamper] = [
        Tamper(name: "nonce first byte", byteIndex: 0, aad: ascii("user:42"), truncateTo: nil),
        Tamper(name: "nonce last byte", byteIndex: 11, aad: ascii("user:42"), truncateTo: nil),
        Tamper(
            name: "ciphertext first byte", byteIndex: 12, aad: ascii("user:42"),
            truncateTo: nil),
        Tamper(
            name: "ciphertext last byte", byteIndex: 31, aad: ascii("user:42"),
            truncateTo: nil),
        Tamper(name: "tag first byte", byteIndex: 32, aad: ascii("user:42"), truncateTo: nil),
        Tamper(name: "tag last byte", byteIndex: 47, aad: ascii("user:42"), truncateTo: nil),
        Tamper(name: "different AAD", byteIndex: nil, aad: ascii("user:43"), truncateTo: nil),
        Tamper(name: "missing AAD", byteIndex: nil, aad: [], truncateTo: nil),
        Tamper(name: "tag truncated", byteIndex: nil, aad: ascii("user:42"), truncateTo: 47),
    ]

    @Test(arguments: tampers)
    func tamperingIsDetected(_ tamper: Tamper) throws {
        let plaintext = ascii("JBSWY3DPEHPK3PXP1234")
        var sealed = try AESGCM.seal(plaintext, key: Self.key, aad: ascii("user:42"))
        if let index = tamper.byteIndex {
            sealed[index] ^= 0x01
        }
        if let length = tamper.truncateTo {
            sealed = Array(sealed.prefix(length))
        }
        #expect { try AESGCM.open(sealed, key: Self.key, aad: tamper.aad) } throws: {
            ($0 as? CryptoError)?.code == .authenticationFailure
        }
    }

    @Test func wrongKeyIsDetected() throws {
        let sealed = try AESGCM.seal(ascii("secret"), key: Self.key)
        var otherKey = Self.key
        otherKey[0] ^= 0x80
        #expect { try AESGCM.open(sealed, key: otherKey) } throws: {
            ($0 as? CryptoError)?.code == .authenticationFailure
        }
    }

    @Test(arguments: [0, 16, 24, 31, 33])
    func keyLengthMustBe32(_ length: Int) {
        let key = [UInt8](repeating: 1, count: length)
        #expect { try AESGCM.seal([1, 2, 3], key: key) } throws: {
            ($0 as? CryptoError)?.code == .invalidKey
        }
        #expect { try AESGCM.open([UInt8](repeating: 0, count: 40), key: key) } throws: {
            ($0 as? CryptoError)?.code == .invalidKey
        }
    }

    @Test(arguments: [0, 12, 27])
    func tooShortBoxIsMalformed(_ length: Int) {
        #expect { try AESGCM.open([UInt8](repeating: 0, count: length), key: Self.key) } throws: {
            ($0 as? CryptoError)?.code == .malformedInput
        }
    }
}
