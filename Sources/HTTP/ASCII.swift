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

    /// The index of the first CR or LF in `bytes[start..<end]`, or `end` when there is none.
    ///
    /// Eight bytes are tested per step with the classic zero-byte bit trick, so the long
    /// runs of ordinary bytes that make up a head cost one load and a few ALU operations
    /// per word; the exact position is then found byte by byte inside the word.
    static func firstLineBreak(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Int {
        var index = start
        while index + 8 <= end {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if hasByte(word, cr) || hasByte(word, lf) { break }
            index += 8
        }
        while index < end && bytes[index] != cr && bytes[index] != lf { index += 1 }
        return index
    }

    /// The index of the first byte at or after `start` that cannot appear in a field value
    /// (a control other than HTAB, or DEL), skipping whole words of plain text at a time.
    /// Stops at the line's CR; `bytes` must contain a CR at or after `start`.
    static func firstNonValueByte(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        let end = bytes.count
        while index + 8 <= end {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if hasByteBelowSpace(word) || hasByte(word, delete) { break }
            index += 8
        }
        while isFieldValueByte(bytes[index]) { index += 1 }
        return index
    }

    private static let lowBits: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether any byte of `word` equals `byte` (exact, no false positives).
    @inline(__always)
    private static func hasByte(_ word: UInt64, _ byte: UInt8) -> Bool {
        let folded = word ^ (lowBits &* UInt64(byte))
        return (folded &- lowBits) & ~folded & highBits != 0
    }

    /// Whether any byte of `word` is below 0x20 (exact for thresholds up to 0x80).
    @inline(__always)
    private static func hasByteBelowSpace(_ word: UInt64) -> Bool {
        (word &- lowBits &* 0x20) & ~word & highBits != 0
    }

    /// Whether `bytes` equals `lowercaseName`, ignoring ASCII case in `bytes`.
    /// `lowercaseName` must be lowercase ASCII.
    @inline(__always)
    static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer.SubSequence, _ lowercaseName: StaticString
    ) -> Bool {
        guard bytes.count == lowercaseName.utf8CodeUnitCount else { return false }
        let name = lowercaseName.utf8Start
        let base = bytes.base
        var offset = 0
        while offset < bytes.count {
            guard lowercased(base[bytes.startIndex + offset]) == name[offset] else { return false }
            offset += 1
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
