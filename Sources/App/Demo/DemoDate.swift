/// A day and a minute of that day in UTC, for the dates of the demo data set.
///
/// Calendar arithmetic is done on a day count so that the generator needs no time zone and
/// no `Calendar`: the proleptic Gregorian conversion below is exact for every year it uses.
struct DemoDate: Comparable {
    /// Days since 1970-01-01.
    let day: Int
    /// Minutes after midnight UTC, 0..<1440.
    let minute: Int

    init(day: Int, minute: Int = 0) {
        self.day = day + minute.floorDivided(by: 1440)
        self.minute = minute.floorModulo(1440)
    }

    init(year: Int, month: Int, day: Int, minute: Int = 0) {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear.floorDivided(by: 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        self.init(day: era * 146_097 + dayOfEra - 719_468, minute: minute)
    }

    /// (year, month 1–12, day 1–31).
    var civil: (year: Int, month: Int, day: Int) {
        let shifted = day + 719_468
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra =
            (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, dayOfMonth)
    }

    /// FHIR `date`: `YYYY-MM-DD`.
    var date: String {
        let (year, month, day) = civil
        return Self.padded(year, 4) + "-" + Self.padded(month, 2) + "-" + Self.padded(day, 2)
    }

    /// FHIR `dateTime` to the minute in UTC: `YYYY-MM-DDThh:mm:00Z`.
    var dateTime: String {
        date + "T" + Self.padded(minute / 60, 2) + ":" + Self.padded(minute % 60, 2) + ":00Z"
    }

    func adding(days: Int = 0, minutes: Int = 0) -> DemoDate {
        DemoDate(day: day + days, minute: minute + minutes)
    }

    /// Whole years from `birth` to this date (the age on this day).
    func years(since birth: DemoDate) -> Int {
        let now = civil
        let then = birth.civil
        let hadBirthday = (now.month, now.day) >= (then.month, then.day)
        return now.year - then.year - (hadBirthday ? 0 : 1)
    }

    static func < (left: DemoDate, right: DemoDate) -> Bool {
        (left.day, left.minute) < (right.day, right.minute)
    }

    /// `value` in decimal, left-padded with zeros to `width` digits.
    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Int {
    /// Division rounding toward negative infinity, as the calendar formulas need.
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int) -> Int {
        self - floorDivided(by: divisor) * divisor
    }
}
