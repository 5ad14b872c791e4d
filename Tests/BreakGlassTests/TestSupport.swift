import Auth
import Crypto
import Foundation
import Policy
import Store
import Support
import Testing

@testable import BreakGlass

/// A directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-breakglass-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        // Best effort: a leftover directory under /tmp is harmless and must not fail a test.
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// An error a test's `within` hook throws, to check that it reaches the caller unchanged.
struct HookError: Error, Equatable {
    let label: String
}

/// Accounts, second factor, grants and reviews over one fresh records database file.
///
/// Accounts: alice and bob (clinicians), carol and dave (compliance), sam (security-admin),
/// rita (registrar), eddie (ehr-system). alice and bob have a confirmed TOTP secret.
final class BreakGlassFixture {
    /// A Unix time well inside the range any test uses: the first second of step 60,000,000.
    static let t0: Int64 = 1_800_000_000
    /// The AES-256-GCM key the TOTP secrets are sealed under.
    static let key = [UInt8](repeating: 0x5A, count: 32)
    /// RFC 6238's SHA-1 test secret, "12345678901234567890" (base32
    /// GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ).
    static let secret = Array("12345678901234567890".utf8)
    static let password = "correct horse battery"

    let directory: TemporaryDirectory
    let path: String
    let database: Database
    let identities: IdentityStore
    let factor: SecondFactor
    let grants: GrantStore
    let reviews: ReviewStore

    init(
        policy: BreakGlassPolicy = BreakGlassPolicy(),
        factorPolicy: SecondFactorPolicy = SecondFactorPolicy()
    ) throws {
        directory = try TemporaryDirectory()
        path = directory.path("records.sqlite")
        database = try Database(path: path)
        var authPolicy = AuthPolicy()
        authPolicy.passwordCost = try PasswordHash.Cost(logN: 10, r: 8, p: 1)
        identities = try IdentityStore(database: database, policy: authPolicy)
        factor = try SecondFactor(
            identities: identities, encryptionKey: Self.key, policy: factorPolicy)
        grants = try GrantStore(database: database, policy: policy)
        reviews = try ReviewStore(database: database)

        let accounts: [(String, Role)] = [
            ("alice", .clinician), ("bob", .clinician), ("carol", .compliance),
            ("dave", .compliance), ("sam", .securityAdmin), ("rita", .registrar),
            ("eddie", .ehrSystem),
        ]
        for (name, role) in accounts {
            try identities.addUser(name, role: role, practitionerID: nil, password: Self.password)
        }
        for name in ["alice", "bob"] {
            try identities.setTOTPSecret(
                name, secret: Self.secret, encryptionKey: Self.key, confirmed: true)
        }
    }

    /// A second connection to the same file, with its own stores.
    func reopenFactor(policy: SecondFactorPolicy = SecondFactorPolicy()) throws -> SecondFactor {
        let store = try IdentityStore(database: Database(path: path), policy: identities.policy)
        return try SecondFactor(identities: store, encryptionKey: Self.key, policy: policy)
    }

    /// The code of the fixture secret for the step `offset` steps from the one `now` is in.
    static func code(at now: Int64, offset: Int64 = 0) -> String {
        let step = UInt64(Int64(SecondFactor.step(at: now)) + offset)
        return SecondFactor.code(secret: secret, step: step)
    }

    static func principal(_ name: String, _ role: Role) -> Principal {
        Principal(username: name, role: role)
    }

    static let alice = principal("alice", .clinician)
    static let bob = principal("bob", .clinician)
    static let carol = principal("carol", .compliance)
    static let sam = principal("sam", .securityAdmin)

    /// A valid request for `patient`.
    static func request(
        _ patient: String = "pat-1", minutes: Int? = nil
    ) -> ActivationRequest {
        ActivationRequest(
            patientID: patient, reason: "emergency-treatment",
            justification: "Unresponsive in the emergency department, no history available.",
            acknowledged: true, durationMinutes: minutes)
    }

    /// Activates a valid grant for `holder` and `patient` at `now`.
    @discardableResult
    func activate(
        _ patient: String = "pat-1", holder: Principal = alice, at now: Int64 = t0,
        minutes: Int? = nil
    ) throws -> Grant {
        try grants.activate(
            Self.request(patient, minutes: minutes), holder: holder,
            secondFactorStep: SecondFactor.step(at: now), now: now)
    }

    /// Rows in a break-glass table (the name is one of the fixed table names).
    func count(_ table: String) throws -> Int64 {
        try database.scalar("SELECT count(*) FROM " + table) ?? -1
    }
}
