import Foundation

/// A parsed JSON document that keeps the difference between `true`, `1` and `1.0`, which
/// Foundation's JSONSerialization blurs on some platforms. Used for configuration and for
/// request bodies that must be validated field by field.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
        // The try? above are type probes in a fixed order: a failure means "not this type".
    }

    /// Parses a JSON text; throws on anything that is not exactly one JSON value, and with
    /// ``DuplicateMember`` on an object that names a member twice.
    ///
    /// RFC 8259 leaves duplicate names to the parser, and parsers differ: Foundation keeps the
    /// first value, many others the last. A proxy or a log reading the same body could then see
    /// another patient or disposition than the one acted on, so such a body is refused.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        if try DuplicateMemberScan.hasDuplicate(bytes) {
            throw DuplicateMember()
        }
        return value
    }

    /// An object in the text names the same member twice.
    public struct DuplicateMember: Error, Equatable {}

    /// A name for messages: "a string", "an integer"...
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }
}

/// Finds an object that names a member twice, in a text already known to be valid JSON.
///
/// One pass over the bytes with a stack of the names seen in each open object. Names are
/// compared after unescaping (`"a"` and `"\u0061"` are the same member); only a name that holds
/// a backslash is decoded, by Foundation.
enum DuplicateMemberScan {
    private struct Frame {
        let isObject: Bool
        var names: Set<String> = []
        var expectingName: Bool
    }

    static func hasDuplicate(_ bytes: [UInt8]) throws -> Bool {
        var stack: [Frame] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append(Frame(isObject: true, expectingName: true))
            case UInt8(ascii: "["):
                stack.append(Frame(isObject: false, expectingName: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                stack.removeLast()
            case UInt8(ascii: ","):
                if let top = stack.indices.last, stack[top].isObject {
                    stack[top].expectingName = true
                }
            case UInt8(ascii: "\""):
                let end = closingQuote(bytes, after: index)
                if let top = stack.indices.last, stack[top].isObject, stack[top].expectingName {
                    let name = try self.name(bytes[index...end])
                    guard stack[top].names.insert(name).inserted else {
                        return true
                    }
                    stack[top].expectingName = false
                }
                index = end
            default:
                break
            }
            index += 1
        }
        return false
    }

    /// The index of the quote that ends the string opening at `start`.
    private static func closingQuote(_ bytes: [UInt8], after start: Int) -> Int {
        var index = start + 1
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        return index
    }

    private static func name(_ quoted: ArraySlice<UInt8>) throws -> String {
        guard quoted.contains(UInt8(ascii: "\\")) else {
            return String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self)
        }
        return try JSONDecoder().decode(String.self, from: Data(quoted))
    }
}
