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

/// The word-at-a-time searches must find exactly what a byte-by-byte loop finds.
@Suite("Word-at-a-time scans")
struct WordScanTests {
    /// Buffers mixing plain text with the bytes the scans stop at, at every alignment.
    private static func buffers() -> [[UInt8]] {
        let specials: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x7F, 0x80, 0xFF, 0x8D, 0x8A]
        var generator = SplitMix64(seed: 7)
        var result: [[UInt8]] = []
        for length in 0..<40 {
            for special in specials {
                var bytes = (0..<length).map { _ in
                    UInt8.random(in: 0x21...0x7E, using: &generator)
                }
                if length > 0 { bytes[Int.random(in: 0..<length, using: &generator)] = special }
                result.append(bytes)
            }
        }
        return result
    }

    @Test("firstLineBreak matches a byte loop from every start")
    func lineBreak() {
        for bytes in Self.buffers() {
            bytes.withUnsafeBytes { buffer in
                for start in 0...bytes.count {
                    let expected =
                        bytes[start...].firstIndex { $0 == 0x0D || $0 == 0x0A } ?? bytes.count
                    #expect(ASCII.firstLineBreak(buffer, from: start, to: bytes.count) == expected)
                }
            }
        }
    }

    @Test("firstNonValueByte matches a byte loop from every start")
    func nonValueByte() {
        for var bytes in Self.buffers() {
            bytes.append(0x0D)  // the scan relies on a CR ending the line
            bytes.withUnsafeBytes { buffer in
                for start in 0..<bytes.count {
                    let expected = bytes[start...].firstIndex { !ASCII.isFieldValueByte($0) }
                    #expect(ASCII.firstNonValueByte(buffer, from: start) == expected)
                }
            }
        }
    }
}
