/// Byte classes from RFC 9110 and RFC 9112, as branch-light predicates on single bytes.
///
/// The parser works on `UInt8` only; these helpers are the one place that says which bytes
/// belong to which grammar rule. Bit masks cover the 128 ASCII code points in two words, so
/// a class test is a shift and an AND with no table lookup or global initialisation.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let percent: UInt8 = 0x25
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let question: UInt8 = 0x3F
    static let at: UInt8 = 0x40
    static let backslash: UInt8 = 0x5C
    static let star: UInt8 = 0x2A
    static let delete: UInt8 = 0x7F

    /// tchar (RFC 9110 5.6.2): the bytes of methods, field names and other tokens.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        inMask(byte, low: 0x03FF_6CFA_0000_0000, high: 0x57FF_FFFF_C7FF_FFFE)
    }

    /// The bytes of a Host field value: reg-name, IP-literal and port characters
    /// (unreserved, sub-delims, "%", ":", "[" and "]"; RFC 3986 3.2).
    @inline(__always)
    static func isHostByte(_ byte: UInt8) -> Bool {
        inMask(byte, low: 0x2FFF_7FF2_0000_0000, high: 0x47FF_FFFE_AFFF_FFFE)
    }

    /// Bytes allowed inside a field value: HTAB, SP, VCHAR and obs-text (RFC 9110 5.5).
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte >= space ? byte != delete : byte == tab
    }

    /// Bytes allowed in a request-target: visible ASCII except "#", which starts a fragment
    /// and never belongs in a request (RFC 9112 3.2).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > space && byte < delete && byte != hash
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    @inline(__always)
    static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

    /// The value of a hexadecimal digit, or nil for any other byte.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        if byte &- 0x30 < 10 { return byte &- 0x30 }
        let folded = byte | 0x20
        if folded &- 0x61 < 6 { return folded &- 0x61 &+ 10 }
        return nil
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    @inline(__always)
    private static func inMask(_ byte: UInt8, low: UInt64, high: UInt64) -> Bool {
        if byte < 64 { return (low >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (high >> UInt64(byte &- 64)) & 1 == 1 }
        return false
    }

    /// Whether `bytes` equals `lowercaseName`, ignoring ASCII case in `bytes`.
    /// `lowercaseName` must be lowercase ASCII.
    static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer.SubSequence, _ lowercaseName: StaticString
    ) -> Bool {
        guard bytes.count == lowercaseName.utf8CodeUnitCount else { return false }
        let name = UnsafeRawBufferPointer(
            start: lowercaseName.utf8Start, count: lowercaseName.utf8CodeUnitCount)
        var index = 0
        for byte in bytes {
            guard lowercased(byte) == name[index] else { return false }
            index += 1
        }
        return true
    }

    /// ASCII case-insensitive comparison of two strings, as field names are compared.
    static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        guard left.count == right.count else { return false }
        return left.elementsEqual(right) { lowercased($0) == lowercased($1) }
    }
}
