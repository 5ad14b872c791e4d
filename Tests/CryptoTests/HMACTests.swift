import Crypto
import Testing

/// HMAC against RFC 4231 (SHA-256) and RFC 2202 (SHA-1).
struct HMACTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let mac: String
        var testDescription: String { name }
    }

    static let sha256Vectors: [Vector] = [
        Vector(
            name: "RFC 4231 case 1", key: [UInt8](repeating: 0x0b, count: 20),
            message: ascii("Hi There"),
            mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(
            name: "RFC 4231 case 2", key: ascii("Jefe"),
            message: ascii("what do ya want for nothing?"),
            mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(
            name: "RFC 4231 case 3", key: [UInt8](repeating: 0xaa, count: 20),
            message: [UInt8](repeating: 0xdd, count: 50),
            mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(
            name: "RFC 4231 case 4", key: Array(1...25),
            message: [UInt8](repeating: 0xcd, count: 50),
            mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(
            name: "RFC 4231 case 6", key: [UInt8](repeating: 0xaa, count: 131),
            message: ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
            mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(
            name: "RFC 4231 case 7", key: [UInt8](repeating: 0xaa, count: 131),
            message: ascii(
                "This is a test using a larger than block-size key and a larger than "
                    + "block-size data. The key needs to be hashed before being used by the "
                    + "HMAC algorithm."),
            mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        Vector(
            name: "empty key and message", key: [], message: [],
            mac: "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
    ]

    static let sha1Vectors: [Vector] = [
        Vector(
            name: "RFC 2202 case 1", key: [UInt8](repeating: 0x0b, count: 20),
            message: ascii("Hi There"), mac: "b617318655057264e28bc0b6fb378c8ef146be00"),
        Vector(
            name: "RFC 2202 case 2", key: ascii("Jefe"),
            message: ascii("what do ya want for nothing?"),
            mac: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        Vector(
            name: "RFC 2202 case 3", key: [UInt8](repeating: 0xaa, count: 20),
            message: [UInt8](repeating: 0xdd, count: 50),
            mac: "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
        Vector(
            name: "RFC 2202 case 6", key: [UInt8](repeating: 0xaa, count: 80),
            message: ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
            mac: "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
        Vector(
            name: "RFC 2202 case 7", key: [UInt8](repeating: 0xaa, count: 80),
            message: ascii(
                "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
            mac: "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
    ]

    @Test(arguments: sha256Vectors)
    func sha256(_ vector: Vector) {
        #expect(Hex.encode(HMAC.sha256(key: vector.key, message: vector.message)) == vector.mac)
    }

    @Test(arguments: sha1Vectors)
    func sha1(_ vector: Vector) {
        #expect(Hex.encode(HMAC.sha1(key: vector.key, message: vector.message)) == vector.mac)
    }

    @Test func sha512RFC4231Case2() {
        let mac = HMAC.sha512(key: ascii("Jefe"), message: ascii("what do ya want for nothing?"))
        #expect(
            Hex.encode(mac)
                == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                + "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    }
}
