import Crypto
import Testing

/// TOTP against RFC 6238 Appendix B and HOTP against RFC 4226 Appendix D.
struct TOTPTests {
    static let sha1Seed = ascii("12345678901234567890")
    static let sha256Seed = ascii("12345678901234567890123456789012")
    static let sha512Seed = ascii(
        "1234567890123456789012345678901234567890123456789012345678901234")

    struct Row: Sendable, CustomTestStringConvertible {
        let time: Int64
        let counter: UInt64
        let sha1: String
        let sha256: String
        let sha512: String
        var testDescription: String { "T=\(time)" }
    }

    /// RFC 6238 Appendix B: time, T (hex in the RFC), and the 8-digit codes.
    static let rows: [Row] = [
        Row(time: 59, counter: 0x1, sha1: "94287082", sha256: "46119246", sha512: "90693936"),
        Row(
            time: 1_111_111_109, counter: 0x23523EC,
            sha1: "07081804", sha256: "68084774", sha512: "25091201"),
        Row(
            time: 1_111_111_111, counter: 0x23523ED,
            sha1: "14050471", sha256: "67062674", sha512: "99943326"),
        Row(
            time: 1_234_567_890, counter: 0x273EF07,
            sha1: "89005924", sha256: "91819424", sha512: "93441116"),
        Row(
            time: 2_000_000_000, counter: 0x3F940AA,
            sha1: "69279037", sha256: "90698825", sha512: "38618901"),
        Row(
            time: 20_000_000_000, counter: 0x27BC86AA,
            sha1: "65353130", sha256: "77737706", sha512: "47863826"),
    ]

    @Test(arguments: rows)
    func counterForTime(_ row: Row) {
        #expect(TOTP.counter(at: row.time) == row.counter)
    }

    @Test(arguments: rows)
    func sha1EightDigits(_ row: Row) {
        let code = TOTP.code(secret: Self.sha1Seed, counter: row.counter, digits: 8)
        #expect(code == row.sha1)
    }

    @Test(arguments: rows)
    func sha256EightDigits(_ row: Row) {
        let code = TOTP.code(
            secret: Self.sha256Seed, counter: row.counter, digits: 8, algorithm: .sha256)
        #expect(code == row.sha256)
    }

    @Test(arguments: rows)
    func sha512EightDigits(_ row: Row) {
        let code = TOTP.code(
            secret: Self.sha512Seed, counter: row.counter, digits: 8, algorithm: .sha512)
        #expect(code == row.sha512)
    }

    @Test(arguments: rows)
    func sixDigitsAreTheLowOrderDigits(_ row: Row) {
        let code = TOTP.code(secret: Self.sha1Seed, counter: row.counter)
        #expect(code == String(row.sha1.suffix(6)))
    }

    /// RFC 4226 Appendix D: 6-digit HOTP values for counters 0...9.
    static let hotp: [(UInt64, String)] = [
        (0, "755224"), (1, "287082"), (2, "359152"), (3, "969429"), (4, "338314"),
        (5, "254676"), (6, "287922"), (7, "162583"), (8, "399871"), (9, "520489"),
    ]

    @Test(arguments: hotp)
    func hotpSixDigits(_ counter: UInt64, _ expected: String) {
        #expect(TOTP.code(secret: Self.sha1Seed, counter: counter) == expected)
    }

    @Test(arguments: [(Int64(0), UInt64(0)), (29, 0), (30, 1), (-1, 0), (-100, 0)])
    func counterEdges(_ time: Int64, _ expected: UInt64) {
        #expect(TOTP.counter(at: time) == expected)
    }

    @Test func otherSteps() {
        #expect(TOTP.counter(at: 119, step: 60) == 1)
        #expect(TOTP.counter(at: 120, step: 60) == 2)
    }

    static let wellFormed: [(String, Bool)] = [
        ("123456", true),
        ("000000", true),
        ("999999", true),
        ("12345", false),
        ("1234567", false),
        (" 123456", false),
        ("123456 ", false),
        ("+12345", false),
        ("-12345", false),
        ("\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}", false),
        ("12 456", false),
        ("", false),
        ("abcdef", false),
        ("\u{660}\u{661}\u{662}\u{663}\u{664}\u{665}", false),
        ("12345\u{0}", false),
        ("123456\n", false),
        ("1e5000", false),
        ("12.456", false),
    ]

    @Test(arguments: wellFormed)
    func isWellFormedCode(_ text: String, _ expected: Bool) {
        #expect(TOTP.isWellFormedCode(text) == expected)
    }

    @Test func eightDigitShape() {
        #expect(TOTP.isWellFormedCode("12345678", digits: 8))
        #expect(!TOTP.isWellFormedCode("123456", digits: 8))
    }
}
