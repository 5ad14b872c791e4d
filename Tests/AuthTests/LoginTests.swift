import Crypto
import Foundation
import Policy
import Store
import Synchronization
import Testing

@testable import Auth

@Suite("Login and lockout")
struct LoginTests {
    let t0 = AuthFixture.t0

    @Test("the right password starts a session for the canonical name")
    func success() throws {
        let fixture = try AuthFixture()
        let account = try fixture.addClinician("alice")
        let result = try fixture.authenticator.login(
            username: " Alice\n", password: AuthFixture.password, now: t0)
        #expect(result.account == account)
        #expect(
            result.session
                == Session(
                    username: "alice", role: .clinician, createdAt: t0, lastSeenAt: t0,
                    expiresAt: t0 + 28_800, idleExpiresAt: t0 + 900))
        #expect(result.token.utf8.count == 43)
        #expect(Base64URL.decode(result.token)?.count == 32)
        let other = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0)
        #expect(other.token != result.token)
    }

    /// Failed logins: the account state, the name and password typed, and the reason the
    /// audit log must see. Every one looks the same to the client.
    static let failures: [(String, String, String, LoginFailure.Reason, String?)] = [
        ("wrong password", "alice", "not the password", .wrongPassword, "alice"),
        ("empty password", "alice", "", .wrongPassword, "alice"),
        ("password differs in case", "alice", "Correct horse battery", .wrongPassword, "alice"),
        ("unknown user", "mallory", AuthFixture.password, .unknownUser, "mallory"),
        ("unknown user, other spelling", " MALLORY ", "x", .unknownUser, "mallory"),
        ("name without canonical form", "al ice", AuthFixture.password, .invalidUsername, nil),
        ("empty name", "", AuthFixture.password, .invalidUsername, nil),
        ("disabled, right password", "carol", AuthFixture.password, .accountDisabled, "carol"),
        ("disabled, wrong password", "carol", "nope", .accountDisabled, "carol"),
    ]

    @Test("every failed login gives the client the same answer", arguments: failures)
    func failure(
        label: String, username: String, password: String, reason: LoginFailure.Reason,
        audited: String?
    ) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.addClinician("carol")
        try fixture.store.disable("carol")

        let error = try #require(throws: AuthError.self, "\(label)") {
            try fixture.authenticator.login(username: username, password: password, now: t0)
        }
        #expect(error.code == .invalidCredentials)
        #expect(error.message == "invalid username or password")
        #expect(error.loginFailure == LoginFailure(reason: reason, username: audited))
        #expect(!error.lockoutStarted)
        #expect(try fixture.authenticator.sessionCount(of: "alice") == 0)
    }

    /// Attempts on one name in many spellings, one second apart, and what each must give:
    /// the error code (nil for success) and whether it starts the lockout.
    static let lockoutSequence: [(String, String, AuthError.Code?, Bool)] = [
        ("alice", "wrong 1", .invalidCredentials, false),
        (" Alice", "wrong 2", .invalidCredentials, false),
        ("ALICE\n", "wrong 3", .invalidCredentials, false),
        ("ａｌｉｃｅ", "wrong 4", .invalidCredentials, false),
        ("Alice ", "wrong 5", .locked, true),
        ("alice", "wrong 6", .locked, false),
        ("alice", AuthFixture.password, .locked, false),
        ("ALICE", AuthFixture.password, .locked, false),
    ]

    @Test("five failures in any spelling lock the name, and the start is reported once")
    func lockout() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        var starts = 0
        for (offset, (username, password, expected, started)) in Self.lockoutSequence.enumerated() {
            let now = t0 + Int64(offset)
            let error = try #require(throws: AuthError.self, "attempt \(offset + 1)") {
                try fixture.authenticator.login(username: username, password: password, now: now)
            }
            #expect(error.code == expected, "attempt \(offset + 1)")
            #expect(error.lockoutStarted == started, "attempt \(offset + 1)")
            #expect(error.loginFailure?.username == "alice")
            if error.code == .locked {
                #expect(error.loginFailure?.lockedUntil == t0 + 4 + 900)
            }
            starts += error.lockoutStarted ? 1 : 0
        }
        #expect(starts == 1)
        #expect(try fixture.authenticator.lockedUntil(of: "Alice", now: t0 + 10) == t0 + 904)
        #expect(try fixture.authenticator.sessionCount(of: "alice") == 0)
    }

    @Test("unknown names are counted and locked like real ones")
    func unknownNamesLock() throws {
        let fixture = try AuthFixture()
        var codes: [AuthError.Code] = []
        for attempt in 0..<6 {
            let error = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(
                    username: "ghost", password: "guess \(attempt)", now: t0 + Int64(attempt))
            }
            codes.append(error.code)
        }
        #expect(codes == Array(repeating: .invalidCredentials, count: 4) + [.locked, .locked])
    }

    /// Seconds after the lockout started, and whether the name is free again.
    static let expiry: [(Int64, Bool)] = [(1, false), (59, false), (60, true), (5_000, true)]

    @Test("a lockout ends after lockoutSeconds with a fresh budget", arguments: expiry)
    func lockoutExpiry(after seconds: Int64, free: Bool) throws {
        // A lockout shorter than the window, so that the failures before it would still
        // count if the lockout had not cleared them.
        var policy = AuthPolicy.fast
        policy.lockoutSeconds = 60
        let fixture = try AuthFixture(policy: policy)
        try fixture.addClinician("alice")
        for _ in 0..<5 {
            _ = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(username: "alice", password: "x", now: t0)
            }
        }
        let later = t0 + seconds
        guard free else {
            let error = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(
                    username: "alice", password: AuthFixture.password, now: later)
            }
            #expect(error.code == .locked && !error.lockoutStarted)
            return
        }
        for offset in 0..<4 {
            let error = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(
                    username: "alice", password: "x", now: later + Int64(offset))
            }
            #expect(error.code == .invalidCredentials)
        }
        let login = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: later + 4)
        #expect(login.account.username == "alice")
    }

    @Test("failures are counted in a sliding window")
    func slidingWindow() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        // At 901 the failure at 0 has left the 900-second window; at 902 five remain.
        let times: [(Int64, AuthError.Code)] = [
            (0, .invalidCredentials), (100, .invalidCredentials), (200, .invalidCredentials),
            (300, .invalidCredentials), (901, .invalidCredentials), (902, .locked),
        ]
        for (offset, expected) in times {
            let error = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(username: "alice", password: "x", now: t0 + offset)
            }
            #expect(error.code == expected, "at \(offset)")
        }
    }

    @Test("a successful login resets the failure count")
    func successResets() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        for offset in 0..<4 {
            _ = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(
                    username: "alice", password: "x", now: t0 + Int64(offset))
            }
        }
        _ = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0 + 5)
        for offset in 6..<10 {
            let error = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(
                    username: "alice", password: "x", now: t0 + Int64(offset))
            }
            #expect(error.code == .invalidCredentials)
        }
    }

    @Test("an administrator can lift a lockout")
    func unlock() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        for offset in 0..<5 {
            _ = try #require(throws: AuthError.self) {
                try fixture.authenticator.login(
                    username: "alice", password: "x", now: t0 + Int64(offset))
            }
        }
        #expect(try fixture.authenticator.unlock("ALICE", now: t0 + 10))
        #expect(try !fixture.authenticator.unlock("alice", now: t0 + 10))
        #expect(try fixture.authenticator.lockedUntil(of: "alice", now: t0 + 10) == nil)
        let login = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: t0 + 11)
        #expect(login.account.username == "alice")
    }

    @Test("a hash of an outdated cost is replaced at the next login")
    func rehash() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let read = {
            try fixture.store.database.query(
                "SELECT password_hash FROM accounts WHERE username = 'alice'"
            ) { $0.text(at: 0) ?? "" }.first ?? ""
        }
        let before = try read()
        #expect(before.hasPrefix("$scrypt$ln=10,r=8,p=1$"))

        var stronger = AuthPolicy.fast
        stronger.passwordCost = try PasswordHash.Cost(logN: 11, r: 8, p: 1)
        let authenticator = try Authenticator(store: fixture.store, policy: stronger)
        _ = try authenticator.login(username: "alice", password: AuthFixture.password, now: t0)
        let after = try read()
        #expect(after.hasPrefix("$scrypt$ln=11,r=8,p=1$"))
        #expect(PasswordHash.verify(AuthFixture.password, against: after))
    }

    @Test("connections racing on one name start exactly one lockout")
    func concurrentFailures() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let path = fixture.path
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let outcome: String
            do {
                let store = try IdentityStore(database: Database(path: path), policy: .fast)
                let authenticator = try Authenticator(store: store)
                _ = try authenticator.login(
                    username: "alice", password: "wrong \(index)", now: AuthFixture.t0)
                outcome = "success"
            } catch let error as AuthError {
                outcome = error.lockoutStarted ? "started" : error.code.name
            } catch {
                outcome = "\(error)"
            }
            outcomes.withLock { $0.append(outcome) }
        }
        let counted = outcomes.withLock { $0 }.reduce(into: [String: Int]()) {
            $0[$1, default: 0] += 1
        }
        #expect(counted == ["invalid_credentials": 4, "started": 1, "locked": 3])
    }
}
