/// A strict reader for the JSON subset ``AuditJSON`` covers: objects, arrays, strings and
/// integers.
///
/// It refuses what an audit entry never contains (fractions, exponents, `true`, `false`,
/// `null`), and what would make two readers disagree on a value: duplicate member names,
/// invalid UTF-8, unpaired surrogate escapes, raw control characters, leading zeros and
/// integers outside ``AuditCanonicalEncoder/integerRange``. Whitespace between tokens is
/// accepted; canonical form is checked separately by re-encoding. Failures name a byte offset,
/// never the text.
struct AuditJSONReader {
    /// Entries nest two levels (an object holding arrays and one object); a little headroom.
    static let maximumDepth = 8

    /// Parses one complete document.
    static func read(_ bytes: [UInt8]) throws(AuditError) -> AuditJSON {
        var reader = AuditJSONReader(bytes: bytes)
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.index == bytes.count else {
            throw reader.failure("unexpected data after the document")
        }
        return value
    }

    private let bytes: [UInt8]
    private var index = 0

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func failure(_ reason: String) -> AuditError {
        AuditError(
            .malformedEntry, operation: "decode", message: "\(reason) at byte \(index)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) {
            index += 1
        }
    }

    private mutating func readValue(depth: Int) throws(AuditError) -> AuditJSON {
        skipWhitespace()
        guard index < bytes.count else {
            throw failure("unexpected end of input")
        }
        guard depth < Self.maximumDepth else {
            throw failure("nesting too deep")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try readObject(depth: depth + 1)
        case UInt8(ascii: "["): return try readArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readInteger()
        default: throw failure("unexpected value")
        }
    }

    private mutating func expect(_ byte: UInt8) throws(AuditError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw failure("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    /// True (and consumed) when the next token is `byte`.
    private mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            return false
        }
        index += 1
        return true
    }

    private mutating func readObject(depth: Int) throws(AuditError) -> AuditJSON {
        try expect(UInt8(ascii: "{"))
        var members: [String: AuditJSON] = [:]
        if take(UInt8(ascii: "}")) {
            return .object(members)
        }
        repeat {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("expected a member name")
            }
            let name = try readString()
            try expect(UInt8(ascii: ":"))
            let value = try readValue(depth: depth)
            guard members.updateValue(value, forKey: name) == nil else {
                throw failure("duplicate member name")
            }
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
        return .object(members)
    }

    private mutating func readArray(depth: Int) throws(AuditError) -> AuditJSON {
        try expect(UInt8(ascii: "["))
        var elements: [AuditJSON] = []
        if take(UInt8(ascii: "]")) {
            return .array(elements)
        }
        repeat {
            elements.append(try readValue(depth: depth))
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
        return .array(elements)
    }

    private mutating func readInteger() throws(AuditError) -> AuditJSON {
        let start = index
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        let digitsStart = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            index += 1
        }
        let digitCount = index - digitsStart
        guard digitCount > 0 else {
            throw failure("expected digits")
        }
        guard digitCount == 1 || bytes[digitsStart] != UInt8(ascii: "0") else {
            throw failure("leading zero")
        }
        if index < bytes.count,
            [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")]
                .contains(bytes[index])
        {
            throw failure("only integers are allowed")
        }
        // At most 16 digits keeps the parse inside Int64; the range check does the rest.
        guard digitCount <= 16,
            let number = Int64(String(decoding: bytes[start..<index], as: UTF8.self)),
            AuditCanonicalEncoder.integerRange.contains(number)
        else {
            throw failure("integer out of range")
        }
        return .integer(number)
    }

    private mutating func readString() throws(AuditError) -> String {
        index += 1  // the opening quote
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw failure("unterminated string")
            }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw failure("invalid UTF-8 in a string")
                }
                return string
            case UInt8(ascii: "\\"):
                try readEscape(into: &utf8)
            case 0x00..<0x20:
                throw failure("control character in a string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func readEscape(into utf8: inout [UInt8]) throws(AuditError) {
        guard index < bytes.count else {
            throw failure("unterminated escape")
        }
        let letter = bytes[index]
        index += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F,
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A,
            UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let value = simple[letter] {
            utf8.append(value)
            return
        }
        guard letter == UInt8(ascii: "u") else {
            throw failure("unknown escape")
        }
        var scalar = UInt32(try readHex4())
        if (0xD800..<0xDC00).contains(scalar) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u")
            else {
                throw failure("unpaired surrogate")
            }
            index += 2
            let low = UInt32(try readHex4())
            guard (0xDC00..<0xE000).contains(low) else {
                throw failure("unpaired surrogate")
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else {
            throw failure("unpaired surrogate")
        }
        utf8.append(contentsOf: Array(String(Character(unicode)).utf8))
    }

    private mutating func readHex4() throws(AuditError) -> UInt16 {
        guard index + 4 <= bytes.count else {
            throw failure("short unicode escape")
        }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("bad hex digit in a unicode escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}
