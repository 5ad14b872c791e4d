import Crypto
import Support
import Testing

@testable import Auth

@Suite("Sessions")
struct SessionTests {
    let t0 = AuthFixture.t0

    /// Uses of a session logged in at t0: seconds after login of each use, and the result
    /// of the last one (nil: valid). Idle timeout 900 s, lifetime 28 800 s, writes of
    /// lastSeenAt at most every 60 s.
    static let timelines: [(String, [Int64], AuthError.Code?)] = [
        ("used at once", [0], nil),
        ("just inside the idle timeout", [899], nil),
        ("at the idle timeout", [900], .sessionExpired),
        ("long idle", [5_000], .sessionExpired),
        ("kept alive by use", [800, 1_600, 2_400, 3_200], nil),
        (
            "a use within 60 s is not written, so idle counts from the earlier one",
            [850, 900, 1_751], .sessionExpired
        ),
        ("a use after 60 s is written", [850, 910, 1_809], nil),
        (
            "busy until the end of the lifetime",
            Array(stride(from: 600, through: 28_200, by: 600)) + [28_799], nil
        ),
        (
            "busy past the lifetime",
            Array(stride(from: 600, through: 28_200, by: 600)) + [28_800], .sessionExpired
        ),
    ]

    @Test("sessions end at the idle timeout or the absolute lifetime", arguments: timelines)
    func expiry(label: String, uses: [Int64], expected: AuthError.Code?) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let login = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0)
        for use in uses.dropLast() {
            _ = try fixture.authenticator.authenticate(token: login.token, now: t0 + use)
        }
        let last = t0 + uses.last!
        let check = { try fixture.authenticator.authenticate(token: login.token, now: last) }
        guard let expected else {
            let (session, account) = try check()
            #expect(account == login.account, "\(label)")
            #expect(session.expiresAt == t0 + 28_800)
            #expect(session.isValid(at: last))
            return
        }
        let error = try #require(throws: AuthError.self, "\(label)") { try check() }
        #expect(error.code == expected, "\(label)")
        // An expired session is deleted: the token is unknown from now on.
        let again = try #require(throws: AuthError.self) { try check() }
        #expect(again.code == .invalidToken)
        #expect(try fixture.authenticator.sessionCount(of: "alice") == 0)
    }

    @Test("lastSeenAt is written at most once per minute")
    func touchInterval() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let login = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0)
        let stored = {
            try fixture.store.database.scalar("SELECT last_seen_at FROM sessions")
        }
        let steps: [(Int64, Int64)] = [(30, t0), (59, t0), (60, t0 + 60), (100, t0 + 60)]
        for (offset, expected) in steps {
            let (session, _) = try fixture.authenticator.authenticate(
                token: login.token, now: t0 + offset)
            #expect(try stored() == expected, "at \(offset)")
            #expect(session.lastSeenAt == expected && session.idleExpiresAt == expected + 900)
        }
    }

    @Test("a session found through the wall clock expires when the clock moves on")
    func wallClock() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let login = try fixture.login()
        #expect(try fixture.user(of: login.token) == "alice")
        let later = try fixture.reopen(clock: WallClock(offsetSeconds: 28_800))
        let error = try #require(throws: AuthError.self) {
            try later.authenticate(token: login.token)
        }
        #expect(error.code == .sessionExpired)
    }

    @Test("only the SHA-256 digest of a token is stored")
    func tokenStoredAsDigest() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let login = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0)
        let stored = try fixture.store.database.query("SELECT * FROM sessions") { row in
            (0..<row.columnCount).map { row.value(at: $0) }
        }
        #expect(stored.count == 1)
        let values = try #require(stored.first)
        #expect(values.contains(.blob(SHA256.hash(Array(login.token.utf8)))))
        #expect(!values.contains(.text(login.token)))
        #expect(!values.contains(.blob(Array(login.token.utf8))))
        #expect(!values.contains(.blob(try #require(Base64URL.decode(login.token)))))
        #expect(try !fixture.bytesOnDisk().contains(run: Array(login.token.utf8)))
    }

    /// Tokens that must be refused without a session behind them.
    static let badTokens: [String] = [
        "", "short", String(repeating: "A", count: 43), String(repeating: "A", count: 300),
        "has spaces in it and is long", "Bearer abcdefghijklmnopqrstuvwxyz0123456789",
        "abcdefghijklmnopqrstuvwxyz0123456789+/==",
    ]

    @Test("malformed and unknown tokens are refused", arguments: badTokens)
    func badToken(token: String) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        _ = try fixture.login(at: t0)
        let error = try #require(throws: AuthError.self) {
            try fixture.authenticator.authenticate(token: token, now: t0)
        }
        #expect(error.code == .invalidToken)
        #expect(try !fixture.authenticator.logout(token: token))
    }

    @Test("logout ends only that session")
    func logout() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let first = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0)
        let second = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0)
        #expect(try fixture.authenticator.logout(token: first.token))
        #expect(try !fixture.authenticator.logout(token: first.token))
        let error = try #require(throws: AuthError.self) {
            try fixture.authenticator.authenticate(token: first.token, now: t0 + 1)
        }
        #expect(error.code == .invalidToken)
        #expect(try fixture.user(of: second.token, at: t0 + 1) == "alice")
    }

    /// Ways to end every session of an account.
    static let enders: [(String, @Sendable (AuthFixture) throws -> Void)] = [
        ("disable", { _ = try $0.store.disable("Alice") }),
        ("end sessions", { try $0.authenticator.endSessions(of: "ALICE") }),
        ("set password", { try $0.store.setPassword("alice", password: "a fresh passphrase") }),
    ]

    @Test("disabling, ending sessions and a new password sign the account out", arguments: enders)
    func endAll(label: String, end: @Sendable (AuthFixture) throws -> Void) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.addClinician("bob")
        let tokens = try (0..<3).map { _ in
            try fixture.authenticator.login(
                username: "alice", password: AuthFixture.password, now: t0
            ).token
        }
        let bob = try fixture.authenticator.login(
            username: "bob", password: AuthFixture.password, now: t0)
        try end(fixture)
        for token in tokens {
            let error = try #require(throws: AuthError.self, "\(label)") {
                try fixture.authenticator.authenticate(token: token, now: t0 + 1)
            }
            #expect(error.code == .invalidToken, "\(label)")
        }
        #expect(try fixture.user(of: bob.token, at: t0 + 1) == "bob")
    }

    @Test("a session whose account was disabled behind the store's back is refused")
    func disabledBehindTheBack() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let login = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0)
        try fixture.store.database.run("UPDATE accounts SET disabled = 1")
        let error = try #require(throws: AuthError.self) {
            try fixture.authenticator.authenticate(token: login.token, now: t0 + 1)
        }
        #expect(error.code == .disabled)
        #expect(try fixture.authenticator.sessionCount(of: "alice") == 0)
    }

    @Test("purging removes expired sessions only")
    func purge() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        _ = try fixture.login(at: t0)
        let fresh = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0 + 800)
        #expect(try fixture.authenticator.purgeExpiredSessions(now: t0 + 900) == 1)
        #expect(try fixture.authenticator.sessionCount(of: "alice") == 1)
        #expect(try fixture.user(of: fresh.token, at: t0 + 900) == "alice")
    }
}
