import Crypto
import Foundation
import Policy
import Store
import Support

/// phigate's accounts, care assignments, TOTP secrets and the session and lockout tables,
/// over one `Database`.
///
/// The tables live in the same file as the record store, under their own migration component
/// ("identities"), so a care assignment and an encounter participation can be read together.
///
/// Threading: like its `Database`, an `IdentityStore` is used by one thread at a time, and the
/// type is deliberately not `Sendable`. A server keeps one store (and one `Authenticator`) per
/// pooled connection. Any number of stores may open the same file through their own
/// connections; every read-modify-write here runs in one `BEGIN IMMEDIATE` transaction, so
/// two connections racing serialize on SQLite's write lock instead of interleaving.
///
/// Every method takes names as the caller typed them and canonicalizes them with
/// ``Username/canonical(_:)``. Every error is an `AuthError`; storage failures have code
/// `.storage` with the `StoreError` description as their cause.
public final class IdentityStore {
    /// The connection the store reads and writes through.
    public let database: Database
    /// The time written into `createdAt` and assignment rows.
    public let clock: WallClock
    /// The password rules (length, scrypt cost) for new passwords.
    public let policy: AuthPolicy

    /// Opens the store over `database`, creating or migrating its tables when writable.
    ///
    /// On a read-only connection the schema must already be current (`.storage` otherwise).
    /// Throws `.invalidPolicy` when `policy` is out of range.
    public init(
        database: Database, clock: WallClock = WallClock(), policy: AuthPolicy = AuthPolicy()
    ) throws(AuthError) {
        try policy.validate()
        self.database = database
        self.clock = clock
        self.policy = policy
        let migrator = IdentitySchema.migrator
        try AuthError.translating("open the identity tables") {
            guard database.isReadOnly else {
                try migrator.migrate(database)
                return
            }
            let version = try migrator.currentVersion(of: database)
            guard version == migrator.latestVersion else {
                throw AuthError.storage(
                    "a read-only database has identities schema \(version), "
                        + "expected \(migrator.latestVersion)")
            }
        }
    }

    /// Creates an account and returns it.
    ///
    /// The password is hashed with scrypt at `policy.passwordCost` (tens of milliseconds; keep
    /// it off latency-sensitive queues). A practitioner id is accepted for clinicians only,
    /// since only they read records through care relationships; it must be a FHIR logical id.
    /// The store does not check that the Practitioner resource exists.
    ///
    /// Throws `.invalidUsername` (also for a name in `Username.Reserved`), `.invalidRole`,
    /// `.invalidIdentifier`, `.weakPassword`, or `.duplicateUser` when the canonical name is
    /// taken (whatever its spelling).
    @discardableResult
    public func addUser(
        _ rawName: String, role: Role, practitionerID: String?, password: String
    ) throws(AuthError) -> Account {
        let name = try Self.canonicalName(rawName)
        guard !Username.Reserved.all.contains(name) else {
            throw AuthError(.invalidUsername, "'\(name)' is reserved for the audit log's own actors")
        }
        if let practitionerID {
            guard role == .clinician else {
                throw AuthError(.invalidRole, "only a clinician account links to a practitioner")
            }
            guard FHIRSyntax.isValidID(practitionerID) else {
                throw AuthError(
                    .invalidIdentifier,
                    "a practitioner id is 1 to 64 characters of A-Z, a-z, 0-9, '-' and '.'")
            }
        }
        try checkStrength(of: password, for: name)
        let duplicate = AuthError(.duplicateUser, "an account named '\(name)' already exists")

        return try AuthError.translating("add an account") {
            guard try loadAccount(name) == nil else {
                throw duplicate
            }
            let hash = try PasswordHash.hash(password, cost: policy.passwordCost)
            let account = Account(
                username: name, role: role, practitionerID: practitionerID,
                createdAt: clock.unixSeconds())
            try database.run(
                "INSERT INTO accounts(username, role, practitioner_id, password_hash, disabled, "
                    + "created_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT(username) DO NOTHING",
                [
                    .text(name), .text(role.rawValue), .optionalText(practitionerID),
                    .text(hash), .integer(account.createdAt),
                ])
            // Another connection may have added the name since the check above.
            guard database.changes == 1 else {
                throw duplicate
            }
            return account
        }
    }

    /// The account with this name, or nil when there is none.
    ///
    /// Throws `.invalidUsername` when the name does not canonicalize.
    public func account(_ rawName: String) throws(AuthError) -> Account? {
        let name = try Self.canonicalName(rawName)
        return try AuthError.translating("read an account") { try loadAccount(name) }
    }

    /// Every account, disabled ones included, in name order.
    public func listAccounts() throws(AuthError) -> [Account] {
        try AuthError.translating("list accounts") {
            try database.query(
                Self.accountQuery + " ORDER BY a.username", row: Self.account(from:))
        }
    }

    /// Disables the account and ends all its sessions, in one transaction; returns the
    /// disabled account. Disabling a disabled account changes nothing and is not an error.
    ///
    /// Accounts are disabled rather than deleted so that the audit log's actors stay
    /// resolvable and a name is never reused for someone else.
    @discardableResult
    public func disable(_ rawName: String) throws(AuthError) -> Account {
        let name = try Self.canonicalName(rawName)
        return try AuthError.translating("disable an account") {
            try database.transaction {
                var account = try requireAccount(name)
                try database.run(
                    "UPDATE accounts SET disabled = 1 WHERE username = ?", [.text(name)])
                try deleteSessions(of: name)
                account.disabled = true
                return account
            }
        }
    }

    /// Replaces the account's password and ends all its sessions, so that whoever knew the old
    /// password is signed out. A lockout in force is left alone (``Authenticator/unlock(_:)``
    /// lifts it).
    ///
    /// Throws `.invalidUsername`, `.weakPassword` or `.unknownUser`.
    public func setPassword(_ rawName: String, password: String) throws(AuthError) {
        let name = try Self.canonicalName(rawName)
        try checkStrength(of: password, for: name)
        try AuthError.translating("set a password") {
            _ = try requireAccount(name)
            let hash = try PasswordHash.hash(password, cost: policy.passwordCost)
            try database.transaction {
                try database.run(
                    "UPDATE accounts SET password_hash = ? WHERE username = ?",
                    [.text(hash), .text(name)])
                try deleteSessions(of: name)
            }
        }
    }

    // MARK: - Shared with the other files of the module

    /// The canonical form of `rawName`, or `.invalidUsername`.
    static func canonicalName(_ rawName: String) throws(AuthError) -> String {
        guard let name = Username.canonical(rawName) else {
            throw AuthError.invalidUsername()
        }
        return name
    }

    /// The account named `name` (already canonical), or nil.
    func loadAccount(_ name: String) throws -> Account? {
        try database.query(
            Self.accountQuery + " WHERE a.username = ?", [.text(name)], row: Self.account(from:)
        ).first
    }

    /// The account named `name` (already canonical), or `.unknownUser`.
    func requireAccount(_ name: String) throws -> Account {
        guard let account = try loadAccount(name) else {
            throw AuthError.unknownUser(name)
        }
        return account
    }

    /// The account and its stored password hash, for login.
    func credentials(of name: String) throws -> (account: Account, passwordHash: String)? {
        try database.query(
            Self.accountQuery + " WHERE a.username = ?", [.text(name)]
        ) { row in
            (try Self.account(from: row), row.text(at: 6) ?? "")
        }.first
    }

    /// Deletes every session of `name` and returns how many there were.
    @discardableResult
    func deleteSessions(of name: String) throws -> Int {
        try database.run("DELETE FROM sessions WHERE username = ?", [.text(name)])
        return database.changes
    }

    /// Columns 0-6: username, role, practitioner id, disabled, created at, TOTP confirmed,
    /// password hash.
    private static let accountQuery = """
        SELECT a.username, a.role, a.practitioner_id, a.disabled, a.created_at,
            coalesce(t.confirmed, 0), a.password_hash
        FROM accounts a LEFT JOIN account_totp t ON t.username = a.username
        """

    private static func account(from row: Statement) throws -> Account {
        guard let role = Role(rawValue: row.text(at: 1) ?? "") else {
            throw AuthError.storage("an account row holds a role this program does not know")
        }
        return Account(
            username: row.text(at: 0) ?? "", role: role, practitionerID: row.text(at: 2),
            disabled: row.int64(at: 3) != 0, createdAt: row.int64(at: 4),
            totpEnrolled: row.int64(at: 5) != 0)
    }

    /// Refuses a new password that is too short, too long, or the account's own name.
    ///
    /// Length is counted in Unicode scalars after NFKC, the form the hash is computed over.
    private func checkStrength(of password: String, for name: String) throws(AuthError) {
        let bounds = "\(policy.minimumPasswordLength) to \(policy.maximumPasswordLength)"
        let outOfBounds = AuthError(.weakPassword, "a password has \(bounds) characters")
        // Four UTF-8 bytes per scalar at most: longer input is refused before normalizing it.
        guard password.utf8.count <= policy.maximumPasswordLength * 4 else {
            throw outOfBounds
        }
        let length = password.precomposedStringWithCompatibilityMapping.unicodeScalars.count
        guard length >= policy.minimumPasswordLength, length <= policy.maximumPasswordLength
        else {
            throw outOfBounds
        }
        guard Username.canonical(password) != name else {
            throw AuthError(.weakPassword, "a password must not be the account's name")
        }
    }
}
