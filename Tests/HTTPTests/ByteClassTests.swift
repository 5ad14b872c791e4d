@testable import HTTP
import Testing

/// The bit-mask byte classes, checked against the RFC grammar written out as plain sets.
@Suite("Byte classes")
struct ByteClassTests {
    private static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    private static let digits = Array("0123456789".utf8)

    @Test("tchar is exactly RFC 9110 5.6.2")
    func token() {
        let tchar = Set(Self.letters + Self.digits + Array("!#$%&'*+-.^_`|~".utf8))
        for byte in UInt8.min...UInt8.max {
            #expect(ASCII.isTokenByte(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test("host bytes are unreserved, sub-delims, %, :, [ and ]")
    func host() {
        let allowed = Set(Self.letters + Self.digits + Array("-._~!$&'()*+,;=%:[]".utf8))
        for byte in UInt8.min...UInt8.max {
            #expect(ASCII.isHostByte(byte) == allowed.contains(byte), "byte \(byte)")
        }
    }

    @Test("field value bytes are HTAB, SP, VCHAR and obs-text")
    func fieldValue() {
        for byte in UInt8.min...UInt8.max {
            let expected = byte == 0x09 || (0x20...0x7E).contains(byte) || byte >= 0x80
            #expect(ASCII.isFieldValueByte(byte) == expected, "byte \(byte)")
        }
    }

    @Test("hex digits")
    func hex() {
        let hexDigits = Array("0123456789abcdef".utf8)
        for byte in UInt8.min...UInt8.max {
            let expected = hexDigits.firstIndex(of: ASCII.lowercased(byte)).map(UInt8.init)
            #expect(ASCII.hexValue(byte) == expected, "byte \(byte)")
        }
    }
}
