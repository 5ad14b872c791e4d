import Testing

@testable import App

@Suite("Query-string times")
struct TimestampTests {
    /// Expected values computed independently (Python's datetime.fromisoformat).
    @Test(
        "RFC 3339 and Unix milliseconds",
        arguments: [
            ("1796317200000", 1_796_317_200_000),
            ("0", 0),
            ("2026-12-03", 1_796_256_000_000),
            ("2026-12-03T17:00:00Z", 1_796_317_200_000),
            ("2026-12-03t17:00:00z", 1_796_317_200_000),
            ("2026-12-03T17:00:00.5Z", 1_796_317_200_500),
            // Between two milliseconds: the next one, which bounds the same whole-millisecond entries.
            ("2026-12-03T17:00:00.123456789Z", 1_796_317_200_124),
            ("2026-12-03T17:00:00.1230Z", 1_796_317_200_123),
            ("2026-12-03T17:00:00.123000001Z", 1_796_317_200_124),
            ("2024-02-29T23:59:59.9991Z", 1_709_251_200_000),
            ("2026-12-04T19:04:25+01:00", 1_796_407_465_000),
            ("2026-12-03T17:00:00-05:30", 1_796_337_000_000),
            ("2026-12-03T17:00:00+00:00", 1_796_317_200_000),
            ("1970-01-01T00:00:00Z", 0),
            ("2024-02-29T23:59:59.999Z", 1_709_251_199_999),
        ] as [(String, Int64)])
    func parses(_ text: String, _ expected: Int64) {
        #expect(Timestamp.milliseconds(text) == expected)
    }

    @Test(
        "anything else is refused",
        arguments: [
            "", "2026-12", "2026-13-01", "2026-02-30", "2026-12-03T17:00:00", "2026-12-03T17:00Z",
            "2026-12-03 17:00:00Z", "2026-12-03T17:00:00.Z", "2026-12-03T17:00:00.1234567891Z",
            "2026-12-03T17:00:00+0100", "2026-12-03T17:00:00+24:00", "2026-12-03T17:00:00+01:60",
            "2026-12-03T24:00:00Z", "2026-12-03T17:00:00Zjunk", "-5", "+5", "1e3",
            "99999999999999999999",
        ])
    func refuses(_ text: String) {
        #expect(Timestamp.milliseconds(text) == nil)
    }
}
