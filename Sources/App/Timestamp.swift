import Support

/// Times in query strings: Unix milliseconds, or RFC 3339.
enum Timestamp {
    /// Unix milliseconds from digits, from an RFC 3339 full-date ("2026-12-03", midnight UTC), or
    /// from an RFC 3339 date-time: "T" and "Z" in either case, fractional seconds to nanoseconds,
    /// and an offset of "Z" or "+hh:mm" / "-hh:mm".
    ///
    /// A time between two milliseconds is rounded up to the next: entries carry whole
    /// milliseconds and the filters are `since <= time < until`, so the next millisecond keeps
    /// exactly the entries the precise bound would (`until=…01.9715Z` keeps one at `.971`).
    static func milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        if !bytes.isEmpty, bytes.allSatisfy(isDigit) { return Int64(text) }
        var reader = Reader(bytes: bytes)
        guard let year = reader.number(4), reader.skip("-"), let month = reader.number(2), reader.skip("-"),
            let day = reader.number(2)
        else { return nil }
        if reader.atEnd {
            return CivilTime.unixSeconds(year: year, month: month, day: day).map { $0 * 1000 }
        }
        guard reader.skip("T") || reader.skip("t"), let hour = reader.number(2), reader.skip(":"),
            let minute = reader.number(2), reader.skip(":"), let second = reader.number(2)
        else { return nil }
        var millis = 0
        if reader.skip(".") {
            let digits = reader.digits(upTo: 9)
            guard !digits.isEmpty else { return nil }
            for (position, digit) in digits.prefix(3).enumerated() {
                millis += digit * [100, 10, 1][position]
            }
            if digits.dropFirst(3).contains(where: { $0 != 0 }) {
                millis += 1
            }
        }
        var offsetSeconds = 0
        if reader.skip("Z") || reader.skip("z") {
            offsetSeconds = 0
        } else {
            let sign: Int
            if reader.skip("+") { sign = 1 } else if reader.skip("-") { sign = -1 } else { return nil }
            guard let hours = reader.number(2), hours <= 23, reader.skip(":"), let minutes = reader.number(2),
                minutes <= 59
            else { return nil }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        }
        guard reader.atEnd,
            let local = CivilTime.unixSeconds(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        return (local - Int64(offsetSeconds)) * 1000 + Int64(millis)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// A cursor over ASCII bytes.
    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        /// Consumes `character` when it comes next.
        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(character.value) else { return false }
            position += 1
            return true
        }

        /// Exactly `width` digits as a number, or nil (consuming nothing).
        mutating func number(_ width: Int) -> Int? {
            guard position + width <= bytes.count, bytes[position..<position + width].allSatisfy(isDigit) else {
                return nil
            }
            defer { position += width }
            return bytes[position..<position + width].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }

        /// Up to `limit` digits, each as a number; fewer when a non-digit or the end comes first.
        mutating func digits(upTo limit: Int) -> [Int] {
            var out: [Int] = []
            while out.count < limit, position < bytes.count, isDigit(bytes[position]) {
                out.append(Int(bytes[position] - 0x30))
                position += 1
            }
            return out
        }
    }
}
