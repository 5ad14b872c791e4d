/// The canonical byte form of audit entries: the bytes the hash chain covers.
///
/// The output is the JSON Canonicalization Scheme (RFC 8785) of the entry's JSON value:
/// - object members sorted by their names compared as arrays of UTF-16 code units;
/// - no whitespace outside strings;
/// - strings escaped as ECMAScript's `JSON.stringify` does: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`,
///   `\t`, other code points below U+0020 as `\u00xx` with lowercase hex, everything else
///   (including `/`, U+007F and all non-ASCII) as literal UTF-8;
/// - integers in plain decimal, which is what ECMAScript prints for integers of magnitude
///   below 2^53; larger magnitudes are refused, because a double cannot hold them exactly.
///
/// phigate writes these bytes itself; they never come from Foundation's `JSONEncoder`, whose
/// key order and escaping are not specified. Pure and thread-safe.
public enum AuditCanonicalEncoder {
    /// The integers an entry may hold: those an IEEE double represents exactly (I-JSON).
    public static let integerRange: ClosedRange<Int64> =
        -9_007_199_254_740_991...9_007_199_254_740_991

    /// The canonical bytes of `entry`.
    ///
    /// Throws `.invalidEntry` when `time`, `seq` or `status` is outside ``integerRange``.
    public static func encode(_ entry: AuditEntry) throws(AuditError) -> [UInt8] {
        // The same bytes as `encode(entry.jsonValue)`, written straight from the fields: the
        // member names are fixed ASCII, so their canonical order is known in advance. Runs on
        // the writer's thread for every entry, so it avoids the generic path's dictionaries.
        for number in [entry.seq, entry.time, Int64(entry.status)] where !integerRange.contains(number) {
            throw AuditError(
                .invalidEntry, operation: "encode", message: "an integer is outside the exactly representable range")
        }
        var output: [UInt8] = []
        output.reserveCapacity(512)
        var first = true
        func key(_ name: StaticString) {
            output.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func text(_ name: StaticString, _ value: String?, always: Bool = false) {
            guard let value, always || !value.isEmpty else { return }
            key(name)
            appendString(value, to: &output)
        }
        func list(_ name: StaticString, _ values: [String]) {
            guard !values.isEmpty else { return }
            key(name)
            output.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                appendString(value, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
        func integer(_ name: StaticString, _ value: Int64) {
            key(name)
            output.append(contentsOf: String(value).utf8)
        }
        // Alphabetical, which for these ASCII names is the RFC 8785 (UTF-16) order.
        text("action", entry.action, always: true)
        text("actor", entry.actor, always: true)
        text("client", entry.client)
        if !entry.details.isEmpty {
            key("details")
            try appendObject(entry.details.map { ($0.key, AuditJSON.string($0.value)) }, to: &output)
        }
        text("event", entry.event, always: true)
        text("grant", entry.grant)
        text("justification", entry.justification)
        text("outcome", entry.outcome, always: true)
        text("patient", entry.patient)
        text("proxy", entry.proxy)
        text("purpose", entry.purpose)
        text("reason", entry.reason)
        text("request_id", entry.requestID)
        list("resources", entry.resources)
        list("roles", entry.roles)
        text("rule", entry.rule)
        integer("seq", entry.seq)
        integer("status", Int64(entry.status))
        integer("time", entry.time)
        text("user_agent", entry.userAgent)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// The bytes `"name":"value"` with which the entry encoder writes a text field
    /// (the entry member `name` holding `value`), for searching stored entries without
    /// decoding them.
    static func member(_ name: StaticString, _ value: String) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        output.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        appendString(value, to: &output)
        return output
    }

    /// The RFC 8785 canonical bytes of `value`.
    ///
    /// Throws `.invalidEntry` when an integer is outside ``integerRange``.
    public static func encode(_ value: AuditJSON) throws(AuditError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        try append(value, to: &output)
        return output
    }

    /// Whether `entry` can be encoded, i.e. every integer is inside ``integerRange``.
    ///
    /// `seq` is not checked: the writer assigns it.
    public static func validate(_ entry: AuditEntry) throws(AuditError) {
        guard integerRange.contains(entry.time), integerRange.contains(Int64(entry.status)) else {
            throw AuditError(
                .invalidEntry, operation: "encode",
                message: "an integer field is outside the exactly representable range")
        }
    }

    /// True when `bytes` decode to an entry whose canonical encoding is exactly `bytes`.
    public static func isCanonical(_ bytes: [UInt8]) -> Bool {
        do {
            return try encode(decode(bytes)) == bytes
        } catch {
            // Anything that does not decode, or cannot be re-encoded, is not canonical;
            // the reason is not needed for a yes/no answer.
            return false
        }
    }

    /// `a` sorts before `b` when compared as sequences of UTF-16 code units (RFC 8785 3.2.3).
    static func precedes(_ a: String, _ b: String) -> Bool {
        // UTF-8 byte order is code point order, and so is UTF-16 order except between a code
        // point above U+FFFF (a surrogate pair) and one in U+E000...U+FFFF, whose UTF-8 lead
        // bytes are 0xEE and above. Without such bytes the cheaper UTF-8 comparison agrees.
        if !a.utf8.contains(where: { $0 >= 0xEE }) || !b.utf8.contains(where: { $0 >= 0xEE }) {
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        return a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    private static func append(_ value: AuditJSON, to output: inout [UInt8]) throws(AuditError) {
        switch value {
        case .string(let string):
            appendString(string, to: &output)
        case .integer(let number):
            guard integerRange.contains(number) else {
                throw AuditError(
                    .invalidEntry, operation: "encode",
                    message: "an integer is outside the exactly representable range")
            }
            output.append(contentsOf: String(number).utf8)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 {
                    output.append(UInt8(ascii: ","))
                }
                try append(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            try appendObject(Array(members), to: &output)
        }
    }

    /// Appends an object whose members are given in any order; names must be distinct.
    private static func appendObject(
        _ members: [(String, AuditJSON)], to output: inout [UInt8]
    ) throws(AuditError) {
        output.append(UInt8(ascii: "{"))
        let sorted = members.sorted { precedes($0.0, $1.0) }
        for (index, (name, value)) in sorted.enumerated() {
            if index > 0 {
                output.append(UInt8(ascii: ","))
            }
            appendString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            try append(value, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `string` as a JSON string literal with JCS escaping.
    static func appendString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        let utf8 = string.utf8
        if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            output.append(contentsOf: utf8)
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x00..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default:
                // Multi-byte UTF-8 sequences never contain bytes below 0x80, so copying bytes
                // one by one copies every non-ASCII code point literally.
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
