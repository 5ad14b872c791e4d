import Crypto
import Testing

/// scrypt against RFC 7914 section 12. The fourth vector (N = 2^20, 1 GiB) is left out: it
/// exceeds the module's default memory cap and takes seconds.
struct ScryptTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let password: String
        let salt: String
        let n: UInt64
        let r: UInt32
        let p: UInt32
        let derived: String
        var testDescription: String { "N=\(n) r=\(r) p=\(p)" }
    }

    static let vectors: [Vector] = [
        Vector(
            password: "", salt: "", n: 16, r: 1, p: 1,
            derived: "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                + "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"),
        Vector(
            password: "password", salt: "NaCl", n: 1024, r: 8, p: 16,
            derived: "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
        Vector(
            password: "pleaseletmein", salt: "SodiumChloride", n: 16384, r: 8, p: 1,
            derived: "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
                + "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"),
    ]

    @Test(arguments: vectors)
    func rfc7914(_ vector: Vector) throws {
        let derived = try Scrypt.derive(
            password: ascii(vector.password), salt: ascii(vector.salt), n: vector.n,
            r: vector.r, p: vector.p, length: 64)
        #expect(Hex.encode(derived) == vector.derived)
    }

    @Test func shorterOutputIsAPrefix() throws {
        let derived = try Scrypt.derive(password: [], salt: [], n: 16, r: 1, p: 1, length: 16)
        #expect(Hex.encode(derived) == "77d6576238657b203b19ca42c18a0497")
    }

    struct BadParameters: Sendable, CustomTestStringConvertible {
        let name: String
        let n: UInt64
        let r: UInt32
        let p: UInt32
        let length: Int
        let maxMemory: UInt64
        var testDescription: String { name }
    }

    static let badParameters: [BadParameters] = [
        BadParameters(name: "N = 0", n: 0, r: 1, p: 1, length: 32, maxMemory: 1 << 28),
        BadParameters(name: "N = 1", n: 1, r: 1, p: 1, length: 32, maxMemory: 1 << 28),
        BadParameters(
            name: "N not a power of 2", n: 1000, r: 8, p: 1, length: 32,
            maxMemory: 1 << 28),
        BadParameters(name: "r = 0", n: 16, r: 0, p: 1, length: 32, maxMemory: 1 << 28),
        BadParameters(name: "p = 0", n: 16, r: 1, p: 0, length: 32, maxMemory: 1 << 28),
        BadParameters(name: "length 0", n: 16, r: 1, p: 1, length: 0, maxMemory: 1 << 28),
        BadParameters(
            name: "length 1025", n: 16, r: 1, p: 1, length: 1025,
            maxMemory: 1 << 28),
        BadParameters(
            name: "memory over the cap", n: 1 << 20, r: 8, p: 1, length: 32,
            maxMemory: 256 << 20),
        BadParameters(name: "tiny cap", n: 1024, r: 8, p: 1, length: 32, maxMemory: 1024),
    ]

    @Test(arguments: badParameters)
    func refusesBadParameters(_ bad: BadParameters) {
        #expect {
            try Scrypt.derive(
                password: ascii("pw"), salt: ascii("salt"), n: bad.n, r: bad.r, p: bad.p,
                length: bad.length, maxMemory: bad.maxMemory)
        } throws: {
            ($0 as? CryptoError)?.code == .invalidParameter
        }
    }

    @Test func memoryEstimate() {
        // 128·r·(N + 2) + 128·r·p for N = 2^15, r = 8, p = 1.
        #expect(Scrypt.memoryRequired(n: 1 << 15, r: 8, p: 1) == 33_557_504)
        #expect(Scrypt.memoryRequired(n: UInt64.max, r: 8, p: 1) == nil)
        #expect(Scrypt.memoryRequired(n: 1 << 60, r: 1 << 20, p: 1) == nil)
    }
}
