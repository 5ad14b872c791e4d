import Crypto
import Testing

/// Base32, base64, base64url and hex against RFC 4648 section 10, plus strict decoding.
struct EncodingTests {
    /// RFC 4648 section 10: input, base32 (padded, as printed in the RFC), base64.
    static let rfc4648: [(String, String, String)] = [
        ("", "", ""),
        ("f", "MY======", "Zg=="),
        ("fo", "MZXQ====", "Zm8="),
        ("foo", "MZXW6===", "Zm9v"),
        ("foob", "MZXW6YQ=", "Zm9vYg=="),
        ("fooba", "MZXW6YTB", "Zm9vYmE="),
        ("foobar", "MZXW6YTBOI======", "Zm9vYmFy"),
    ]

    @Test(arguments: rfc4648)
    func base32(_ input: String, _ padded: String, _ base64: String) {
        let unpadded = String(padded.prefix { $0 != "=" })
        #expect(Base32.encode(ascii(input)) == unpadded)
        #expect(Base32.decode(unpadded) == ascii(input))
        #expect(Base32.decode(padded) == ascii(input))
        #expect(Base32.decode(unpadded.lowercased()) == ascii(input))
    }

    @Test(arguments: rfc4648)
    func base64(_ input: String, _ base32: String, _ padded: String) {
        let unpadded = String(padded.prefix { $0 != "=" })
        #expect(Base64.encode(ascii(input)) == padded)
        #expect(Base64.encode(ascii(input), padded: false) == unpadded)
        #expect(Base64.decode(padded) == ascii(input))
        #expect(Base64.decode(unpadded) == ascii(input))
        #expect(Base64URL.encode(ascii(input)) == unpadded)
        #expect(Base64URL.decode(unpadded) == ascii(input))
    }

    @Test func base32AllByteValues() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        #expect(
            Base32.encode(Array(bytes.prefix(40)))
                == "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPSAIJCEMSCKJRH")
    }

    @Test(arguments: [
        "MY=", "MY=======", "M", "MZX", "MZXW6Y", "MZ XQ", "MZ-Q", "MZXQ====\n",
        "MZ0Q", "MZ1Q", "MZ8Q", "MZ9Q", "MZ=Q", "MZ", "MZXR", "MZXW7", "=",
    ])
    func base32Refuses(_ text: String) {
        #expect(Base32.decode(text) == nil)
    }

    @Test func base64Alphabets() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xbf]
        #expect(Base64.encode(bytes) == "+/+/")
        #expect(Base64URL.encode(bytes) == "-_-_")
        #expect(Base64.decode("-_-_") == nil)
        #expect(Base64URL.decode("+/+/") == nil)
    }

    @Test(arguments: ["Zg", "Zg==", "Zm8", "Zm8=", "Zm9v"])
    func base64AcceptsBothForms(_ text: String) {
        #expect(Base64.decode(text) != nil)
    }

    @Test(arguments: [
        "Z", "Zg=", "Zg===", "Zm8==", "Zh==", "Zh", "Zm9=", "Zm9v=", "Zm 9v", "Zm9v\n", "====",
        "Zg==Zg==", "Z===", "é",
    ])
    func base64Refuses(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test(arguments: ["Zg==", "Zm8=", "Zh", "Z", "a+b/", "a b"])
    func base64URLRefuses(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func hexRoundTrip() {
        let bytes: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]
        #expect(Hex.encode(bytes) == "00017f80abff")
        #expect(Hex.decode("00017f80abff") == bytes)
        #expect(Hex.decode("00017F80ABFF") == bytes)
        #expect(Hex.encode([]) == "")
        #expect(Hex.decode("") == [])
    }

    @Test(arguments: ["0", "abc", "0g", "0x00", " 00", "00 ", "zz", "-1", "é0"])
    func hexRefuses(_ text: String) {
        #expect(Hex.decode(text) == nil)
    }
}
