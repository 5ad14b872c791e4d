import Crypto
import Foundation
import Policy
import Store
import Support
import Testing

@testable import Auth

/// A directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-auth-tests-" + UUID().uuidString)
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

extension AuthPolicy {
    /// The default policy with the cheapest scrypt cost, so that tests hash in milliseconds.
    static var fast: AuthPolicy {
        var policy = AuthPolicy()
        policy.passwordCost = try! PasswordHash.Cost(logN: 10, r: 8, p: 1)
        return policy
    }
}

/// An identity store and authenticator over a fresh database file, kept with its directory.
final class AuthFixture {
    static let password = "correct horse battery"
    /// A Unix time well inside the range any test uses.
    static let t0: Int64 = 1_800_000_000

    let directory: TemporaryDirectory
    let path: String
    let policy: AuthPolicy
    let store: IdentityStore
    let authenticator: Authenticator

    init(policy: AuthPolicy = .fast, clock: WallClock = WallClock()) throws {
        directory = try TemporaryDirectory()
        path = directory.path("phigate.sqlite")
        self.policy = policy
        store = try IdentityStore(database: Database(path: path), clock: clock, policy: policy)
        authenticator = try Authenticator(store: store)
    }

    /// A second store and authenticator on the same file, through their own connection.
    func reopen(clock: WallClock = WallClock()) throws -> Authenticator {
        let store = try IdentityStore(database: Database(path: path), clock: clock, policy: policy)
        return try Authenticator(store: store)
    }

    @discardableResult
    func addClinician(_ name: String = "alice") throws -> Account {
        try store.addUser(name, role: .clinician, practitionerID: nil, password: Self.password)
    }

    /// Logs `name` in with the standard password at `now`.
    func login(_ name: String = "alice", at now: Int64? = nil) throws -> LoginResult {
        try authenticator.login(username: name, password: Self.password, now: now)
    }

    /// The name of the account that `token` authenticates at `now`.
    func user(of token: String, at now: Int64? = nil) throws -> String {
        try authenticator.authenticate(token: token, now: now).account.username
    }

    /// The database file and its write-ahead log, where recent writes live until a
    /// checkpoint: everything SQLite has put on disk.
    func bytesOnDisk() throws -> [UInt8] {
        var bytes: [UInt8] = []
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            bytes += try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        }
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs as a contiguous run in the array.
    func contains(run needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else {
            return needle.isEmpty
        }
        let first = needle[0]
        var index = 0
        while index <= count - needle.count {
            if self[index] == first, Array(self[index..<index + needle.count]) == needle {
                return true
            }
            index += 1
        }
        return false
    }
}
