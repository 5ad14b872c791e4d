/// A strict RFC 8259 parser for untrusted input.
///
/// It refuses what a lenient parser would guess at: trailing data, duplicate object keys,
/// invalid UTF-8, unpaired surrogate escapes, control characters in strings, and nesting deeper
/// than `maximumDepth` (so hostile input cannot exhaust the stack). Errors carry the byte
/// offset only, never the offending text.
struct JSONParser {
    struct Failure: Error, Equatable {
        let reason: String
        let offset: Int
    }

    static let maximumDepth = 100

    /// Parses one complete JSON document (a leading UTF-8 byte order mark is skipped).
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        let result: Result<JSONValue, Failure> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            return Result { () throws(Failure) -> JSONValue in try parser.parseDocument() }
        }
        return try result.get()
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private mutating func parseDocument() throws(Failure) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            index = 3
        }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else {
            throw fail("unexpected data after the document")
        }
        return value
    }

    private func fail(_ reason: String) -> Failure {
        Failure(reason: reason, offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(Failure) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else {
            throw fail("unexpected end of input")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    private mutating func parseLiteral(_ word: StaticString, _ value: JSONValue)
        throws(Failure) -> JSONValue
    {
        let count = word.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        guard index + count <= bytes.count,
            bytes[index..<index + count].elementsEqual(expected)
        else {
            throw fail("invalid literal")
        }
        index += count
        return value
    }

    private mutating func enterContainer() throws(Failure) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw fail("nesting too deep")
        }
        index += 1
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        try enterContainer()
        var object = JSONObject()
        var keys = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw fail("expected an object key")
            }
            let key = try parseString()
            guard keys.insert(key).inserted else {
                throw fail("duplicate object key")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw fail("expected ':'")
            }
            index += 1
            object.members.append(JSONObject.Member(key: key, value: try parseValue()))
            if try endOfContainer(closing: UInt8(ascii: "}")) {
                return .object(object)
            }
        }
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        try enterContainer()
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            if try endOfContainer(closing: UInt8(ascii: "]")) {
                return .array(elements)
            }
        }
    }

    /// Consumes ',' (returns false) or the closing bracket (returns true).
    private mutating func endOfContainer(closing: UInt8) throws(Failure) -> Bool {
        skipWhitespace()
        guard index < bytes.count else {
            throw fail("unexpected end of input")
        }
        switch bytes[index] {
        case UInt8(ascii: ","):
            index += 1
            return false
        case closing:
            index += 1
            depth -= 1
            return true
        default:
            throw fail("expected ',' or a closing bracket")
        }
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw fail("invalid number")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            try requireDigits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, [UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[index]) {
                index += 1
            }
            try requireDigits()
        }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) {
            index += 1
        }
    }

    private mutating func requireDigits() throws(Failure) {
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw fail("invalid number")
        }
        skipDigits()
    }
}

extension JSONParser {
    /// Parses a string starting at the opening quote; the common case without escapes is one
    /// scan and one UTF-8 validation.
    private mutating func parseString() throws(Failure) -> String {
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let string = String(validating: bytes[start..<index], as: UTF8.self)
                guard let string else {
                    throw fail("invalid UTF-8 in string")
                }
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(from: start)
            }
            guard byte >= 0x20 else {
                throw fail("control character in string")
            }
            index += 1
        }
        throw fail("unterminated string")
    }

    private mutating func parseEscapedString(from start: Int) throws(Failure) -> String {
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw fail("invalid UTF-8 in string")
                }
                return string
            case UInt8(ascii: "\\"):
                index += 1
                try appendEscape(to: &utf8)
            case ..<0x20:
                throw fail("control character in string")
            default:
                utf8.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func appendEscape(to utf8: inout [UInt8]) throws(Failure) {
        guard index < bytes.count else {
            throw fail("unterminated string")
        }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"): utf8.append(contentsOf: try parseUnicodeEscape())
        default: throw fail("invalid escape")
        }
    }

    /// Decodes `XXXX` (after `\u`), pairing a high surrogate with the `\uXXXX` that must follow.
    private mutating func parseUnicodeEscape() throws(Failure) -> String.UTF8View {
        let first = try parseHex4()
        var scalarValue = first
        if (0xD800...0xDBFF).contains(first) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u")
            else {
                throw fail("unpaired surrogate escape")
            }
            index += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else {
                throw fail("unpaired surrogate escape")
            }
            scalarValue = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else {
            throw fail("unpaired surrogate escape")
        }
        return String(Character(scalar)).utf8
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else {
            throw fail("invalid unicode escape")
        }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid unicode escape")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }
}

/// The strict parser's verdict on a document, for callers that parse it another way but must
/// not accept what this parser refuses (a configuration file with a key given twice, which
/// other tools read as its last value).
public enum StrictJSON {
    /// Why `bytes` are not one strict JSON document ("duplicate object key at byte 42"), or nil.
    public static func problem(in bytes: [UInt8]) -> String? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return "\(error.reason) at byte \(error.offset)"
        }
    }
}
