/// Query strings and path segments: splitting and percent-decoding (RFC 3986 2.1, and the
/// application/x-www-form-urlencoded rules of the WHATWG URL standard for queries).
///
/// Decoding is strict: a "%" not followed by two hex digits, or decoded bytes that are not
/// valid UTF-8, make the whole input invalid (nil) rather than being passed through, so a
/// search parameter cannot smuggle malformed text into a store query.
public enum HTTPQuery {
    /// Splits `query` (the raw text after "?") into name/value pairs in order.
    ///
    /// Pairs are separated by "&"; empty pairs are skipped; a pair without "=" has an empty
    /// value. In names and values "+" means a space and "%XX" a byte. Returns nil when any
    /// name or value fails to decode.
    public static func parse(_ query: String) -> [(name: String, value: String)]? {
        var pairs: [(name: String, value: String)] = []
        let utf8 = query.utf8
        var pairStart = utf8.startIndex
        while pairStart < utf8.endIndex {
            let pairEnd = utf8[pairStart...].firstIndex(of: 0x26) ?? utf8.endIndex
            if pairStart < pairEnd {
                let pair = utf8[pairStart..<pairEnd]
                let equals = pair.firstIndex(of: ASCII.equals) ?? pair.endIndex
                guard let name = decode(pair[..<equals], plusIsSpace: true) else { return nil }
                let valueStart = equals < pair.endIndex ? pair.index(after: equals) : equals
                guard let value = decode(pair[valueStart...], plusIsSpace: true) else {
                    return nil
                }
                pairs.append((name: name, value: value))
            }
            pairStart = pairEnd < utf8.endIndex ? utf8.index(after: pairEnd) : pairEnd
        }
        return pairs
    }

    /// Percent-decodes one path segment. "+" stays "+" (it means a space only in queries).
    /// Returns nil for a bad escape or when the decoded bytes are not valid UTF-8.
    public static func percentDecode(_ s: Substring) -> String? {
        decode(s.utf8, plusIsSpace: false)
    }

    private static func decode(_ bytes: Substring.UTF8View, plusIsSpace: Bool) -> String? {
        let needsWork = bytes.contains { $0 == ASCII.percent || (plusIsSpace && $0 == ASCII.plus) }
        guard needsWork else { return String(Substring(bytes)) }

        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            if byte == ASCII.percent {
                guard index < bytes.endIndex, let high = ASCII.hexValue(bytes[index]) else {
                    return nil
                }
                bytes.formIndex(after: &index)
                guard index < bytes.endIndex, let low = ASCII.hexValue(bytes[index]) else {
                    return nil
                }
                bytes.formIndex(after: &index)
                decoded.append(high << 4 | low)
            } else if byte == ASCII.plus && plusIsSpace {
                decoded.append(ASCII.space)
            } else {
                decoded.append(byte)
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }
}
