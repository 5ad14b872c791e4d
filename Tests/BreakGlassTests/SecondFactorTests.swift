import Auth
import Crypto
import Store
import Testing

@testable import BreakGlass

@Suite("Second factor: codes, windows and replay")
struct SecondFactorTests {
    typealias F = BreakGlassFixture
    let t0 = F.t0

    /// Codes computed once with pyotp 2.x (`pyotp.TOTP(secret).at(time)`), an implementation
    /// independent of this one: secret in base32, Unix time, code.
    static let pyotpCodes: [(String, Int64, String)] = [
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59, "287082"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_111_111_109, "081804"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_800_000_015, "768147"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 2_000_000_000, "279037"),
        ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 59, "503347"),
        ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 1_800_000_000, "877905"),
        ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 2_000_000_000, "978524"),
    ]

    @Test("codes match pyotp's and verify at their time", arguments: pyotpCodes)
    func pyotpCompatible(secretBase32: String, time: Int64, code: String) throws {
        let secret = try #require(Base32.decode(secretBase32))
        #expect(SecondFactor.code(secret: secret, step: SecondFactor.step(at: time)) == code)

        let fixture = try F()
        try fixture.identities.setTOTPSecret(
            "alice", secret: secret, encryptionKey: F.key, confirmed: true)
        #expect(try fixture.factor.verify("alice", code: code, now: time) == UInt64(time / 30))
    }

    /// The step offset of the code typed, where in its step `now` falls, and the outcome.
    static let windowCases: [(Int64, Int64, BreakGlassError.Code?)] = [
        (0, 0, nil), (0, 29, nil), (-1, 0, nil), (-1, 29, nil), (1, 0, nil), (1, 29, nil),
        (-2, 0, .wrongCode), (-2, 29, .wrongCode), (2, 0, .wrongCode), (2, 29, .wrongCode),
        (-3, 15, .wrongCode), (10, 15, .wrongCode),
    ]

    @Test("the previous, current and next step are accepted, no other", arguments: windowCases)
    func window(offset: Int64, secondsIntoStep: Int64, expected: BreakGlassError.Code?) throws {
        let fixture = try F()
        let now = t0 + secondsIntoStep
        let code = F.code(at: now, offset: offset)
        if let expected {
            let error = try #require(throws: BreakGlassError.self) {
                try fixture.factor.verify("alice", code: code, now: now)
            }
            #expect(error.code == expected)
            #expect(error.lockedUntil == nil && !error.lockoutStarted)
        } else {
            let step = try fixture.factor.verify("alice", code: code, now: now)
            #expect(step == UInt64(Int64(SecondFactor.step(at: now)) + offset))
        }
    }

    /// Codes offered in order as (time, step offset of the code), and what each gets.
    static let sequences: [(String, [(Int64, Int64)], [BreakGlassError.Code?])] = [
        ("same code twice", [(0, 0), (5, 0)], [nil, .replayed]),
        ("same code in the next step", [(0, 0), (30, -1)], [nil, .replayed]),
        ("older code after a newer", [(0, 1), (1, 0)], [nil, .replayed]),
        ("previous step after current", [(0, 0), (1, -1)], [nil, .replayed]),
        ("newer code after an older", [(0, -1), (1, 0), (2, 1)], [nil, nil, nil]),
        ("next period's code", [(0, 0), (30, 0)], [nil, nil]),
        ("replay after a wrong code", [(0, 0), (1, 5), (2, 0)], [nil, .wrongCode, .replayed]),
    ]

    @Test("each code is accepted once, never after a newer one", arguments: sequences)
    func replay(label: String, attempts: [(Int64, Int64)], expected: [BreakGlassError.Code?])
        throws
    {
        let fixture = try F()
        var outcomes: [BreakGlassError.Code?] = []
        for (delay, offset) in attempts {
            let now = t0 + delay
            do {
                try fixture.factor.verify("alice", code: F.code(at: now, offset: offset), now: now)
                outcomes.append(nil)
            } catch {
                outcomes.append(error.code)
            }
        }
        #expect(outcomes == expected, "\(label)")
    }

    @Test("a code checked without spending it is accepted again, and still counts when wrong")
    func checkWithoutSpending() throws {
        let fixture = try F()
        let code = F.code(at: t0)
        #expect(try fixture.factor.verify("alice", code: code, now: t0, spending: false) == 60_000_000)
        #expect(try fixture.factor.verify("alice", code: code, now: t0 + 1, spending: false) == 60_000_000)
        #expect(try fixture.factor.verify("alice", code: code, now: t0 + 2) == 60_000_000)
        let replayed = try #require(throws: BreakGlassError.self) {
            try fixture.factor.verify("alice", code: code, now: t0 + 3, spending: false)
        }
        #expect(replayed.code == .replayed)
        let wrong = try #require(throws: BreakGlassError.self) {
            try fixture.factor.verify("alice", code: F.code(at: t0, offset: 5), now: t0 + 4, spending: false)
        }
        #expect(wrong.code == .wrongCode)
        #expect(try fixture.count("break_glass_totp_failures") == 2)
    }

    /// Variants of "768147", the code valid at t0, which a normalizing check would accept.
    static let malformed: [String] = [
        "76814", "7681470", " 768147", "768147 ", "768 147", "768-147", "+76814", "-76814",
        "76814a", "768147\n", "768147\r\n", "768147\u{0}", "",
        "\u{FF17}\u{FF16}\u{FF18}"
            + "\u{FF11}\u{FF14}\u{FF17}", "\u{0667}\u{0666}\u{0668}\u{0661}\u{0664}\u{0667}",
        "7\u{0301}68147", "０７６８１４７",
    ]

    @Test("malformed codes are refused without being compared or counted", arguments: malformed)
    func malformedCode(code: String) throws {
        let fixture = try F()
        #expect(F.code(at: t0) == "768147")
        let error = try #require(throws: BreakGlassError.self) {
            try fixture.factor.verify("alice", code: code, now: t0)
        }
        #expect(error.code == .malformedCode)
        #expect(try fixture.count("break_glass_totp_failures") == 0)
        #expect(try fixture.factor.verify("alice", code: "768147", now: t0) == 60_000_000)
    }

    @Test("accounts without a confirmed secret are not enrolled")
    func notEnrolled() throws {
        let fixture = try F()
        let code = F.code(at: t0)
        let cases: [(String, BreakGlassError.Code)] = [
            ("carol", .notEnrolled), ("ghost", .unknownUser), ("bad name!", .unknownUser),
        ]
        for (name, expected) in cases {
            let error = try #require(throws: BreakGlassError.self) {
                try fixture.factor.verify(name, code: code, now: t0)
            }
            #expect(error.code == expected, "\(name)")
        }
        try fixture.identities.setTOTPSecret(
            "carol", secret: F.secret, encryptionKey: F.key, confirmed: false)
        let unconfirmed = try #require(throws: BreakGlassError.self) {
            try fixture.factor.verify("carol", code: code, now: t0)
        }
        #expect(unconfirmed.code == .notEnrolled)
    }

    @Test("a wrong encryption key is refused at start or when opening the secret")
    func keys() throws {
        let fixture = try F()
        let short = try #require(throws: BreakGlassError.self) {
            try SecondFactor(
                identities: fixture.identities, encryptionKey: [UInt8](repeating: 1, count: 31))
        }
        #expect(short.code == .invalidKey)
        let other = try SecondFactor(
            identities: fixture.identities, encryptionKey: [UInt8](repeating: 1, count: 32))
        let error = try #require(throws: BreakGlassError.self) {
            try other.verify("alice", code: F.code(at: t0), now: t0)
        }
        #expect(error.code == .invalidKey)
    }
}
