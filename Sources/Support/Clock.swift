#if canImport(Glibc)
    import Glibc
#endif

/// Monotonic time for deadlines and durations; never goes backwards, unaffected by NTP steps.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (CLOCK_MONOTONIC).
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// Wall-clock time, with the formats phigate writes (RFC 3339 in UTC, HTTP IMF-fixdate).
///
/// `offsetSeconds` shifts the clock for tests of expiry and TOTP windows.
public struct WallClock: Sendable {
    public var offsetSeconds: Int64

    public init(offsetSeconds: Int64 = 0) { self.offsetSeconds = offsetSeconds }

    /// Seconds and nanoseconds since the Unix epoch.
    public func now() -> (seconds: Int64, nanoseconds: Int64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec) + offsetSeconds, Int64(ts.tv_nsec))
    }

    public func unixSeconds() -> Int64 { now().seconds }

    /// Milliseconds since the Unix epoch.
    public func unixMilliseconds() -> Int64 {
        let (s, ns) = now()
        return s * 1000 + ns / 1_000_000
    }

    /// "2026-12-03T17:13:34.123Z"
    public func iso8601Now() -> String {
        let (s, ns) = now()
        return Self.iso8601(unixSeconds: s, milliseconds: Int(ns / 1_000_000))
    }

    /// RFC 3339 UTC text for a Unix time, with milliseconds when given.
    public static func iso8601(unixSeconds: Int64, milliseconds: Int? = nil) -> String {
        let c = CivilTime(unixSeconds: unixSeconds)
        var out = pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
        out += "T" + pad(c.hour, 2) + ":" + pad(c.minute, 2) + ":" + pad(c.second, 2)
        if let ms = milliseconds { out += "." + pad(ms, 3) }
        return out + "Z"
    }

    /// The HTTP Date header form: "Thu, 03 Dec 2026 17:13:34 GMT".
    public static func httpDate(unixSeconds: Int64) -> String {
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let c = CivilTime(unixSeconds: unixSeconds)
        let dayIndex = Int(((unixSeconds / 86_400) % 7 + 7) % 7)
        return days[dayIndex] + ", " + pad(c.day, 2) + " " + months[c.month - 1] + " " + pad(c.year, 4)
            + " " + pad(c.hour, 2) + ":" + pad(c.minute, 2) + ":" + pad(c.second, 2) + " GMT"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// Proleptic Gregorian calendar fields of a Unix time in UTC (days-from-civil inverse).
public struct CivilTime: Sendable, Equatable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(unixSeconds: Int64) {
        let days = Int(unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400)
        let secondsOfDay = Int(unixSeconds - Int64(days) * 86_400)
        hour = secondsOfDay / 3600
        minute = secondsOfDay % 3600 / 60
        second = secondsOfDay % 60
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Unix seconds of a UTC civil time; nil when a field is out of range.
    public static func unixSeconds(
        year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0
    ) -> Int64? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
            (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let back = CivilTime(unixSeconds: Int64(days) * 86_400)
        guard back.day == day else { return nil }  // 31 April, 30 February...
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
