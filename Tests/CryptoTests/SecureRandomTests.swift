import Crypto
import Testing

/// Shape checks of the random source; the quality is OpenSSL's.
struct SecureRandomTests {
    @Test(arguments: [0, 1, 16, 32, 1000])
    func byteCount(_ count: Int) {
        #expect(SecureRandom.bytes(count).count == count)
    }

    @Test func successiveDrawsDiffer() {
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }

    @Test(arguments: [(16, 22), (32, 43), (48, 64)])
    func tokenIsUnpaddedBase64URL(_ byteCount: Int, _ length: Int) {
        let token = SecureRandom.token(byteCount: byteCount)
        #expect(token.count == length)
        #expect(Base64URL.decode(token)?.count == byteCount)
        #expect(
            token.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default:
                    false
                }
            })
    }

    @Test func defaultTokenHas256Bits() {
        #expect(Base64URL.decode(SecureRandom.token())?.count == 32)
    }
}
