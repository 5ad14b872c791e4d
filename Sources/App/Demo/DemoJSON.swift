/// A JSON value whose objects keep their members in the order written, for building the demo
/// data set's FHIR resources and serialising them to the same bytes every time.
///
/// Only what the generator writes is supported: no null, no floating point (decimals are an
/// integer count of tenths or hundredths, printed exactly).
enum DemoJSON: Sendable {
    case string(String)
    case integer(Int)
    /// `units` × 10^-`scale`, e.g. `.decimal(724, scale: 1)` is `72.4`.
    case decimal(Int, scale: Int)
    case bool(Bool)
    case array([DemoJSON])
    case object([(key: String, value: DemoJSON)])

    /// Adds `key` at the end of an object; does nothing to any other value.
    mutating func append(_ key: String, _ value: DemoJSON) {
        guard case .object(var members) = self else {
            return
        }
        members.append((key, value))
        self = .object(members)
    }

    /// The UTF-8 JSON text, without insignificant whitespace.
    var bytes: [UInt8] {
        var output: [UInt8] = []
        write(to: &output)
        return output
    }

    private func write(to output: inout [UInt8]) {
        switch self {
        case .string(let text):
            Self.writeString(text, to: &output)
        case .integer(let value):
            output.append(contentsOf: String(value).utf8)
        case .decimal(let units, let scale):
            output.append(contentsOf: Self.decimalText(units, scale: scale).utf8)
        case .bool(let value):
            output.append(contentsOf: (value ? "true" : "false").utf8)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 {
                    output.append(UInt8(ascii: ","))
                }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 {
                    output.append(UInt8(ascii: ","))
                }
                Self.writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func decimalText(_ units: Int, scale: Int) -> String {
        guard scale > 0 else {
            return String(units)
        }
        let magnitude = String(units.magnitude)
        let padded = String(repeating: "0", count: max(0, scale + 1 - magnitude.count)) + magnitude
        let point = padded.index(padded.endIndex, offsetBy: -scale)
        let sign = units < 0 ? "-" : ""
        return sign + padded[..<point] + "." + padded[point...]
    }

    /// RFC 8259 string escaping: quote, backslash and control characters.
    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case 0x0A:
                output.append(contentsOf: "\\n".utf8)
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: "\\u00".utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension DemoJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    init(stringLiteral value: String) {
        self = .string(value)
    }

    init(integerLiteral value: Int) {
        self = .integer(value)
    }

    init(booleanLiteral value: Bool) {
        self = .bool(value)
    }

    init(arrayLiteral elements: DemoJSON...) {
        self = .array(elements)
    }

    /// Keeps the members in the order the literal lists them.
    init(dictionaryLiteral elements: (String, DemoJSON)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}

/// Builders for the FHIR data types the generator writes again and again.
extension DemoJSON {
    static func coding(_ system: String, _ code: String, _ display: String) -> DemoJSON {
        ["system": .string(system), "code": .string(code), "display": .string(display)]
    }

    /// A CodeableConcept of one coding, with `text` when given.
    static func concept(_ system: String, _ code: String, _ display: String, text: String? = nil)
        -> DemoJSON
    {
        var concept: DemoJSON = ["coding": [coding(system, code, display)]]
        if let text {
            concept.append("text", .string(text))
        }
        return concept
    }

    /// A Reference; `target` is a `urn:uuid:` fullUrl or a conditional reference.
    static func reference(_ target: String, display: String? = nil) -> DemoJSON {
        var reference: DemoJSON = ["reference": .string(target)]
        if let display {
            reference.append("display", .string(display))
        }
        return reference
    }

    /// A Quantity in UCUM.
    static func quantity(_ value: DemoJSON, unit: String, code: String) -> DemoJSON {
        [
            "value": value, "unit": .string(unit), "system": "http://unitsofmeasure.org",
            "code": .string(code),
        ]
    }
}
