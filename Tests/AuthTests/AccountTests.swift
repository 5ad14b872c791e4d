import Policy
import Store
import Support
import Testing

@testable import Auth

@Suite("Accounts")
struct AccountTests {
    @Test("added accounts are listed in name order with their role and link")
    func addAndList() throws {
        let fixture = try AuthFixture(clock: WallClock(offsetSeconds: 1_000_000))
        let before = WallClock().unixSeconds() + 1_000_000
        let password = AuthFixture.password
        try fixture.store.addUser(
            " Zoe ", role: .registrar, practitionerID: nil, password: password)
        let alice = try fixture.store.addUser(
            "Alice", role: .clinician, practitionerID: "pr-1", password: password)
        try fixture.store.addUser(
            "audit", role: .compliance, practitionerID: nil, password: password)

        #expect(alice.username == "alice")
        #expect(
            alice.principal
                == Principal(username: "alice", role: .clinician, practitionerID: "pr-1"))
        #expect(alice.createdAt >= before && alice.createdAt <= before + 60)
        #expect(!alice.disabled && !alice.totpEnrolled)
        let listed = try fixture.store.listAccounts()
        #expect(listed.map(\.username) == ["alice", "audit", "zoe"])
        #expect(listed.map(\.role) == [.clinician, .compliance, .registrar])
        #expect(listed[0] == alice)
        #expect(try fixture.store.account("ALICE") == alice)
        #expect(try fixture.store.account("nobody") == nil)
    }

    @Test(
        "a name taken in any spelling is refused",
        arguments: ["alice", "Alice", " ALICE ", "alice\n", "ａｌｉｃｅ"])
    func duplicate(spelling: String) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let error = try #require(throws: AuthError.self) {
            try fixture.store.addUser(
                spelling, role: .registrar, practitionerID: nil, password: AuthFixture.password)
        }
        #expect(error.code == .duplicateUser)
        #expect(try fixture.store.listAccounts().count == 1)
        #expect(try fixture.store.account("alice")?.role == .clinician)
    }

    @Test("an invalid name is refused without echoing it")
    func invalidName() throws {
        let fixture = try AuthFixture()
        let error = try #require(throws: AuthError.self) {
            try fixture.store.addUser(
                "bad name", role: .clinician, practitionerID: nil, password: AuthFixture.password)
        }
        #expect(error.code == .invalidUsername)
        #expect(!error.message.contains("bad name"))
    }

    @Test(
        "the audit log's own actor names cannot be taken, in any spelling",
        arguments: ["anonymous", "Phigate", " INVALID-USERNAME "])
    func reservedName(_ spelling: String) throws {
        let fixture = try AuthFixture()
        let error = try #require(throws: AuthError.self) {
            try fixture.store.addUser(
                spelling, role: .clinician, practitionerID: nil, password: AuthFixture.password)
        }
        #expect(error.code == .invalidUsername)
        #expect(error.message.contains("reserved"))
        #expect(try fixture.store.listAccounts().isEmpty)
    }

    /// Passwords and whether the default policy (12 to 1024 characters) accepts them.
    static let passwords: [(String, Bool)] = [
        ("", false),
        ("short", false),
        ("elevenchars", false),
        ("twelve chars", true),
        ("ŝŝŝŝŝŝŝŝŝŝŝ", false),  // 11 characters, 22 bytes: length counts characters
        ("ŝŝŝŝŝŝŝŝŝŝŝŝ", true),
        ("Alice.Smith12", true),
        ("alice.smith1", false),  // the account's own name
        (" Alice.Smith1", false),  // the same in another spelling
        (String(repeating: "p", count: 1024), true),
        (String(repeating: "p", count: 1025), false),
    ]

    @Test("new passwords must meet the length rules and differ from the name", arguments: passwords)
    func passwordStrength(password: String, accepted: Bool) throws {
        let fixture = try AuthFixture()
        let add = {
            try fixture.store.addUser(
                "alice.smith1", role: .clinician, practitionerID: nil, password: password)
        }
        if accepted {
            _ = try add()
            let login = try fixture.authenticator.login(
                username: "alice.smith1", password: password, now: AuthFixture.t0)
            #expect(login.account.username == "alice.smith1")
        } else {
            let error = try #require(throws: AuthError.self) { try add() }
            #expect(error.code == .weakPassword)
            #expect(!error.message.contains(password) || password.isEmpty)
            #expect(try fixture.store.listAccounts().isEmpty)
        }
    }

    /// Role, practitioner id, and the error expected (nil: accepted).
    static let links: [(Role, String?, AuthError.Code?)] = [
        (.clinician, "pr-1", nil),
        (.clinician, nil, nil),
        (.clinician, "bad id!", .invalidIdentifier),
        (.clinician, "", .invalidIdentifier),
        (.registrar, "pr-1", .invalidRole),
        (.compliance, "pr-1", .invalidRole),
        (.securityAdmin, "pr-1", .invalidRole),
        (.ehrSystem, "pr-1", .invalidRole),
        (.ehrSystem, nil, nil),
        (.securityAdmin, nil, nil),
    ]

    @Test("a practitioner id links clinicians only", arguments: links)
    func practitionerLink(role: Role, practitionerID: String?, expected: AuthError.Code?) throws {
        let fixture = try AuthFixture()
        let add = {
            try fixture.store.addUser(
                "user1", role: role, practitionerID: practitionerID,
                password: AuthFixture.password)
        }
        if let expected {
            let error = try #require(throws: AuthError.self) { try add() }
            #expect(error.code == expected)
            #expect(try fixture.store.account("user1") == nil)
        } else {
            let account = try add()
            #expect(account.role == role && account.practitionerID == practitionerID)
            #expect(try fixture.store.account("user1") == account)
        }
    }

    @Test("disabling keeps the account, marks it, and is idempotent")
    func disable() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.addClinician("bob")
        let disabled = try fixture.store.disable(" ALICE ")
        #expect(disabled.username == "alice" && disabled.disabled)
        #expect(try fixture.store.account("alice")?.disabled == true)
        #expect(try fixture.store.account("bob")?.disabled == false)
        #expect(try fixture.store.disable("alice") == disabled)
        #expect(try fixture.store.listAccounts().map(\.disabled) == [true, false])
    }

    @Test("operations on a missing account say so")
    func unknownAccount() throws {
        let fixture = try AuthFixture()
        let operations: [(String, () throws -> Void)] = [
            ("disable", { _ = try fixture.store.disable("ghost") }),
            ("set password", { try fixture.store.setPassword("ghost", password: "long password") }),
            ("assign care", { try fixture.store.assignCare("ghost", patientID: "p1") }),
            ("list care", { _ = try fixture.store.assignedPatients("ghost") }),
            ("end sessions", { try fixture.authenticator.endSessions(of: "ghost") }),
        ]
        for (name, operation) in operations {
            let error = try #require(throws: AuthError.self, "\(name)") { try operation() }
            #expect(error.code == .unknownUser, "\(name)")
            #expect(error.message.contains("ghost"), "\(name)")
        }
    }

    @Test("a new password replaces the old one and is checked for strength")
    func setPassword() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let weak = try #require(throws: AuthError.self) {
            try fixture.store.setPassword("alice", password: "short")
        }
        #expect(weak.code == .weakPassword)
        try fixture.store.setPassword("Alice", password: "a new long passphrase")
        let old = try #require(throws: AuthError.self) {
            try fixture.authenticator.login(
                username: "alice", password: AuthFixture.password, now: AuthFixture.t0)
        }
        #expect(old.code == .invalidCredentials)
        let login = try fixture.authenticator.login(
            username: "alice", password: "a new long passphrase", now: AuthFixture.t0)
        #expect(login.account.username == "alice")
    }

    @Test("a second store on the same file sees the same accounts, care and sessions")
    func secondConnection() throws {
        let fixture = try AuthFixture()
        try fixture.store.addUser(
            "alice", role: .clinician, practitionerID: "pr-1", password: AuthFixture.password)
        try fixture.store.assignCare("alice", patientID: "patient-7")
        let login = try fixture.authenticator.login(
            username: "alice", password: AuthFixture.password, now: AuthFixture.t0)

        let other = try fixture.reopen()
        #expect(try other.store.account("alice") == login.account)
        #expect(try other.store.hasCareAssignment("alice", patientID: "patient-7"))
        let seen = try other.authenticate(token: login.token, now: AuthFixture.t0 + 1)
        #expect(seen.session == login.session)
        try other.store.disable("alice")
        #expect(try fixture.store.account("alice")?.disabled == true)
        let error = try #require(throws: AuthError.self) {
            try fixture.authenticator.authenticate(token: login.token, now: AuthFixture.t0 + 2)
        }
        #expect(error.code == .invalidToken)
    }

    @Test("the identities schema is recorded under its own component")
    func schemaComponent() throws {
        let fixture = try AuthFixture()
        let version = try fixture.store.database.scalar(
            "SELECT version FROM phigate_schema WHERE component = 'identities'")
        #expect(version == 2)
        #expect(try fixture.store.database.scalar("PRAGMA user_version") == 0)
    }

    @Test("a read-only connection opens a migrated file and refuses a bare one")
    func readOnly() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let reader = try IdentityStore(
            database: Database(path: fixture.path, readOnly: true), policy: .fast)
        #expect(try reader.account("alice")?.role == .clinician)

        let directory = try TemporaryDirectory()
        let barePath = directory.path("bare.sqlite")
        try Database(path: barePath).execute("CREATE TABLE unrelated(n)")
        let error = try #require(throws: AuthError.self) {
            try IdentityStore(database: Database(path: barePath, readOnly: true), policy: .fast)
        }
        #expect(error.code == .storage)
    }
}
