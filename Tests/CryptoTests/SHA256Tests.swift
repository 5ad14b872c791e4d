import Crypto
import Testing

/// SHA-256 against the FIPS 180-2 appendix B examples (also in NIST's CAVP short messages).
struct SHA256Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let message: [UInt8]
        let digest: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "empty", message: [],
            digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Vector(
            name: "abc", message: ascii("abc"),
            digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        Vector(
            name: "448-bit",
            message: ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ]

    @Test(arguments: vectors)
    func oneShot(_ vector: Vector) {
        #expect(Hex.encode(SHA256.hash(vector.message)) == vector.digest)
    }

    @Test(arguments: vectors)
    func nonContiguousCollection(_ vector: Vector) {
        // A lazy map has no contiguous storage, which exercises the copying path.
        let lazyBytes = vector.message.lazy.map { $0 }
        #expect(Hex.encode(SHA256.hash(lazyBytes)) == vector.digest)
    }

    @Test(arguments: vectors)
    func incrementalByteAtATime(_ vector: Vector) {
        var hasher = SHA256Hasher()
        for byte in vector.message {
            hasher.update([byte])
        }
        #expect(Hex.encode(hasher.finalize()) == vector.digest)
    }

    @Test func millionAsIncrementally() {
        // FIPS 180-2 B.3: one million repetitions of "a", fed in 1000-byte pieces.
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        var hasher = SHA256Hasher()
        for _ in 0..<1000 {
            piece.withUnsafeBytes { hasher.update($0) }
        }
        #expect(
            Hex.encode(hasher.finalize())
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func finalizeResetsForTheNextMessage() {
        var hasher = SHA256Hasher()
        hasher.update(ascii("abc"))
        _ = hasher.finalize()
        #expect(
            Hex.encode(hasher.finalize())
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func copiesAreIndependent() {
        var first = SHA256Hasher()
        first.update(ascii("ab"))
        var second = first
        first.update(ascii("c"))
        second.update(ascii("cdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
        #expect(
            Hex.encode(first.finalize())
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Hex.encode(second.finalize())
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
