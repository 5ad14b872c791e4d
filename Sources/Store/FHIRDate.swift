/// The span of days a FHIR `date` (or the date part of a `dateTime`) stands for.
///
/// FHIR dates may be partial: `1980` means every day of 1980, `1980-05` every day of May.
/// Both ends are inclusive `YYYY-MM-DD` strings, so that SQLite compares them as text.
struct FHIRDateRange: Equatable {
    let low: String
    let high: String

    /// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a dateTime whose date part is one of them.
    /// Returns nil for anything else, including impossible days such as `2023-02-29`.
    init?(_ text: String) {
        var date = Substring(text)
        if let time = date.firstIndex(of: "T") {
            guard date.distance(from: date.startIndex, to: time) == 10 else {
                return nil
            }
            date = date[..<time]
        }
        let parts = date.split(separator: "-", omittingEmptySubsequences: false)
        let widths = [4, 2, 2]
        guard (1...3).contains(parts.count),
            zip(parts, widths).allSatisfy({ $0.count == $1 && $0.allSatisfy(Self.isDigit) }),
            let year = Int(parts[0]), year >= 1
        else {
            return nil
        }
        let month = parts.count > 1 ? Int(parts[1]) : nil
        let day = parts.count > 2 ? Int(parts[2]) : nil
        if parts.count > 1, month == nil || !(1...12).contains(month!) {
            return nil
        }
        if parts.count > 2 {
            guard let month, let day, (1...Self.days(in: month, of: year)).contains(day) else {
                return nil
            }
        }
        let firstMonth = month ?? 1
        let lastMonth = month ?? 12
        low = Self.format(year, firstMonth, day ?? 1)
        high = Self.format(year, lastMonth, day ?? Self.days(in: lastMonth, of: year))
    }

    private static func isDigit(_ character: Character) -> Bool {
        character.isASCII && character.isWholeNumber
    }

    static func days(in month: Int, of year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    private static func format(_ year: Int, _ month: Int, _ day: Int) -> String {
        pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
