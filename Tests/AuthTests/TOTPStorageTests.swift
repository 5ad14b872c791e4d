import Crypto
import Foundation
import Store
import Synchronization
import Testing

@testable import Auth

@Suite("TOTP secret storage")
struct TOTPStorageTests {
    static let key = [UInt8](repeating: 0x42, count: 32)
    /// A secret with a pattern that could not appear in the file by chance.
    static let secret: [UInt8] = Array("12345678901234567890".utf8)

    @Test("the secret is sealed at rest and opens with the key")
    func sealedAtRest() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        #expect(try fixture.store.totpState("alice", encryptionKey: Self.key) == nil)
        try fixture.store.setTOTPSecret(
            "Alice", secret: Self.secret, encryptionKey: Self.key, confirmed: false)

        let disk = try fixture.bytesOnDisk()
        #expect(disk.contains(run: Array("alice".utf8)))  // the search itself works
        #expect(!disk.contains(run: Self.secret))
        #expect(!disk.contains(run: Array(Base32.encode(Self.secret).utf8)))
        let state = try #require(try fixture.store.totpState("alice", encryptionKey: Self.key))
        #expect(state.secret == Self.secret && !state.confirmed && state.lastAcceptedStep == nil)
        #expect(try fixture.store.account("alice")?.totpEnrolled == false)

        try fixture.store.confirmTOTP("alice")
        #expect(try fixture.store.account("alice")?.totpEnrolled == true)
        #expect(try fixture.store.storedTOTP("alice", encryptionKey: Self.key)?.confirmed == true)
    }

    @Test("a wrong key or a row moved to another account does not open")
    func wrongKeyOrRow() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.addClinician("bob")
        try fixture.store.setTOTPSecret(
            "alice", secret: Self.secret, encryptionKey: Self.key, confirmed: true)
        let otherKey = [UInt8](repeating: 0x43, count: 32)
        let wrongKey = try #require(throws: AuthError.self) {
            try fixture.store.totpState("alice", encryptionKey: otherKey)
        }
        #expect(wrongKey.code == .secretUnreadable)

        try fixture.store.database.run(
            "INSERT INTO account_totp(username, sealed_secret, confirmed) "
                + "SELECT 'bob', sealed_secret, 1 FROM account_totp WHERE username = 'alice'")
        let moved = try #require(throws: AuthError.self) {
            try fixture.store.totpState("bob", encryptionKey: Self.key)
        }
        #expect(moved.code == .secretUnreadable)
    }

    /// Secret and key sizes, and whether they are accepted.
    static let sizeCases: [(Int, Int, Bool)] = [
        (20, 32, true), (16, 32, true), (64, 32, true),
        (15, 32, false), (65, 32, false), (0, 32, false), (20, 16, false), (20, 33, false),
    ]

    @Test("secret and key sizes are checked", arguments: sizeCases)
    func sizes(secretBytes: Int, keyBytes: Int, accepted: Bool) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let store = {
            try fixture.store.setTOTPSecret(
                "alice", secret: [UInt8](repeating: 7, count: secretBytes),
                encryptionKey: [UInt8](repeating: 1, count: keyBytes), confirmed: false)
        }
        if accepted {
            try store()
        } else {
            let error = try #require(throws: AuthError.self) { try store() }
            #expect(error.code == .invalidSecret)
        }
    }

    /// Steps offered in order, and whether each is accepted.
    static let stepSequences: [([UInt64], [Bool])] = [
        ([100], [true]),
        ([100, 100], [true, false]),
        ([100, 99], [true, false]),
        ([100, 101], [true, true]),
        ([100, 101, 100, 102, 0], [true, true, false, true, false]),
        ([0, 0], [true, false]),
        ([UInt64(Int64.max), UInt64(Int64.max) + 1], [true, false]),
    ]

    @Test("each step is accepted once, and never after a newer one", arguments: stepSequences)
    func stepReplay(steps: [UInt64], expected: [Bool]) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.store.setTOTPSecret(
            "alice", secret: Self.secret, encryptionKey: Self.key, confirmed: true)
        let results = try steps.map { try fixture.store.recordAcceptedTOTPStep("alice", step: $0) }
        #expect(results == expected)
        let accepted = zip(steps, expected).filter(\.1).map(\.0).max()
        let stored = try fixture.store.totpState("alice", encryptionKey: Self.key)
        #expect(stored?.lastAcceptedStep == accepted)
    }

    @Test("re-enrolment keeps the last accepted step")
    func reenrolment() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.store.setTOTPSecret(
            "alice", secret: Self.secret, encryptionKey: Self.key, confirmed: false)
        #expect(try fixture.store.recordAcceptedTOTPStep("alice", step: 500))
        let newSecret = [UInt8](repeating: 9, count: 20)
        try fixture.store.setTOTPSecret(
            "alice", secret: newSecret, encryptionKey: Self.key, confirmed: true)
        let state = try #require(try fixture.store.totpState("alice", encryptionKey: Self.key))
        #expect(state.secret == newSecret && state.confirmed && state.lastAcceptedStep == 500)
        #expect(try !fixture.store.recordAcceptedTOTPStep("alice", step: 500))
    }

    @Test("steps for an account without a secret, or no account, are errors")
    func notEnrolled() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let missing = try #require(throws: AuthError.self) {
            try fixture.store.recordAcceptedTOTPStep("alice", step: 1)
        }
        #expect(missing.code == .totpNotEnrolled)
        let confirm = try #require(throws: AuthError.self) {
            try fixture.store.confirmTOTP("alice")
        }
        #expect(confirm.code == .totpNotEnrolled)
        let unknown = try #require(throws: AuthError.self) {
            try fixture.store.recordAcceptedTOTPStep("ghost", step: 1)
        }
        #expect(unknown.code == .unknownUser)
    }

    @Test("connections racing with one code accept it exactly once")
    func concurrentSteps() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.store.setTOTPSecret(
            "alice", secret: Self.secret, encryptionKey: Self.key, confirmed: true)
        let path = fixture.path
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let outcome: String
            do {
                let store = try IdentityStore(database: Database(path: path), policy: .fast)
                outcome = try store.recordAcceptedTOTPStep("alice", step: 1_000) ? "yes" : "no"
            } catch {
                outcome = "\(error)"
            }
            outcomes.withLock { $0.append(outcome) }
        }
        let sorted = outcomes.withLock { $0.sorted() }
        #expect(sorted == Array(repeating: "no", count: 7) + ["yes"])
    }

    @Test("who issued a secret is stored with it and follows each replacement")
    func issuer() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.store.setTOTPSecret(
            "alice", secret: Self.secret, encryptionKey: Self.key, confirmed: false,
            issuedByAdministrator: true)
        let issued = try fixture.store.storedTOTP("alice", encryptionKey: Self.key)
        #expect(issued?.issuedByAdministrator == true)
        try fixture.store.setTOTPSecret(
            "alice", secret: Self.secret, encryptionKey: Self.key, confirmed: false)
        let replaced = try fixture.store.storedTOTP("alice", encryptionKey: Self.key)
        #expect(replaced?.issuedByAdministrator == false)
    }

    @Test("upgrading counts a pending secret of unknown origin as an administrator's")
    func upgradeMarksPendingSecrets() throws {
        let directory = try TemporaryDirectory()
        let database = try Database(path: directory.path("phigate.sqlite"))
        let first = Migrator(component: "identities", scripts: [IdentitySchema.migrator.scripts[0]])
        try first.migrate(database)
        for (name, confirmed) in [("pending", 0), ("settled", 1)] {
            try database.run(
                "INSERT INTO accounts(username, role, password_hash, created_at) "
                    + "VALUES (?, 'clinician', 'x', 0)", [.text(name)])
            try database.run(
                "INSERT INTO account_totp(username, sealed_secret, confirmed) VALUES (?, x'00', ?)",
                [.text(name), .integer(Int64(confirmed))])
        }
        _ = try IdentityStore(database: database, policy: .fast)
        let rows = try database.query(
            "SELECT username, issued_by_admin FROM account_totp ORDER BY username"
        ) { "\($0.text(at: 0) ?? "")=\($0.int64(at: 1))" }
        #expect(rows == ["pending=1", "settled=0"])
    }
}
