/// Writes JSON in the one form the record store stores and compares.
///
/// Canonical form: no insignificant whitespace; object members sorted by the UTF-8 bytes of
/// their keys, except that a resource's top level starts with `resourceType` and `id` so that
/// stored bodies stay readable; strings escape only `"`, `\` and control characters; numbers
/// are written exactly as they were read. Two resources with the same content therefore have
/// byte-identical canonical forms, whatever the member order or spacing of their input.
enum CanonicalJSON {
    /// The canonical bytes of a resource object.
    static func resourceBytes(_ resource: JSONObject) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        let leading = ["resourceType", "id"]
        var members = resource.members.filter { !leading.contains($0.key) }
        sortMembers(&members)
        let head = leading.compactMap { key in
            resource[key].map { JSONObject.Member(key: key, value: $0) }
        }
        writeMembers(head + members, into: &output)
        return output
    }

    /// The canonical bytes of any value.
    static func bytes(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        write(value, into: &output)
        return output
    }

    private static func sortMembers(_ members: inout [JSONObject.Member]) {
        members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    private static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let literal):
            output.append(contentsOf: literal.utf8)
        case .string(let string):
            writeString(string, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 {
                    output.append(UInt8(ascii: ","))
                }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            var members = object.members
            sortMembers(&members)
            writeMembers(members, into: &output)
        }
    }

    private static func writeMembers(_ members: [JSONObject.Member], into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        for (position, member) in members.enumerated() {
            if position > 0 {
                output.append(UInt8(ascii: ","))
            }
            writeString(member.key, into: &output)
            output.append(UInt8(ascii: ":"))
            write(member.value, into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = string
        text.withUTF8 { utf8 in
            if !utf8.contains(where: needsEscape) {
                output.append(contentsOf: utf8)
            } else {
                writeEscaped(utf8, into: &output)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private static func writeEscaped(
        _ utf8: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]
    ) {
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case ..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
        }
    }
}
