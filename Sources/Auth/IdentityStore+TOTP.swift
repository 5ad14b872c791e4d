import Crypto
import Store

/// The stored TOTP state of an account.
public struct TOTPState: Sendable, Equatable {
    /// The shared secret, decrypted. Keep it in memory only as long as a check takes.
    public var secret: [UInt8]
    /// True once the user proved with a code that their authenticator holds the secret.
    public var confirmed: Bool
    /// The newest time step whose code was accepted, if any.
    public var lastAcceptedStep: UInt64?
    /// True when an administrator issued the secret rather than the account holder; a
    /// session alone never replaces such a secret.
    public var issuedByAdministrator: Bool

    public init(
        secret: [UInt8], confirmed: Bool, lastAcceptedStep: UInt64?,
        issuedByAdministrator: Bool = false
    ) {
        self.secret = secret
        self.confirmed = confirmed
        self.lastAcceptedStep = lastAcceptedStep
        self.issuedByAdministrator = issuedByAdministrator
    }
}

extension IdentityStore {
    /// Accepted TOTP secret sizes: at least 128 bits (RFC 4226 section 4), at most 512.
    public static let totpSecretByteCounts = 16...64

    /// Stores the account's TOTP secret, sealed with AES-256-GCM under `encryptionKey`.
    ///
    /// The key comes from outside the database (configuration or a key file), so a copy of
    /// the database alone does not give the secrets away. The sealed box is bound to the
    /// account's name as additional data: moved onto another account's row, it fails to open.
    /// Replacing a secret keeps the last accepted step, so a code accepted before cannot be
    /// accepted again after re-enrolment. `issuedByAdministrator` records who issued it (see
    /// ``TOTPState/issuedByAdministrator``); deciding whether a replacement is allowed is the
    /// caller's job.
    ///
    /// Throws `.invalidSecret` for a secret outside ``totpSecretByteCounts`` or a key that is
    /// not 32 bytes, `.unknownUser` when there is no such account.
    public func setTOTPSecret(
        _ rawName: String, secret: [UInt8], encryptionKey: [UInt8], confirmed: Bool,
        issuedByAdministrator: Bool = false
    ) throws(AuthError) {
        let name = try Self.canonicalName(rawName)
        guard Self.totpSecretByteCounts.contains(secret.count) else {
            throw AuthError(.invalidSecret, "a TOTP secret has 16 to 64 bytes")
        }
        try Self.checkKey(encryptionKey)
        try AuthError.translating("store a TOTP secret") {
            let sealed = try AESGCM.seal(
                secret, key: encryptionKey, aad: Self.totpAssociatedData(name))
            try database.transaction {
                _ = try requireAccount(name)
                try database.run(
                    "INSERT INTO account_totp(username, sealed_secret, confirmed, last_step, "
                        + "issued_by_admin) VALUES (?, ?, ?, NULL, ?) ON CONFLICT(username) DO UPDATE "
                        + "SET sealed_secret = excluded.sealed_secret, confirmed = excluded.confirmed, "
                        + "issued_by_admin = excluded.issued_by_admin",
                    [
                        .text(name), .blob(sealed), .integer(confirmed ? 1 : 0),
                        .integer(issuedByAdministrator ? 1 : 0),
                    ])
            }
        }
    }

    /// Marks the account's TOTP secret as confirmed, keeping the secret and the last step.
    ///
    /// Throws `.totpNotEnrolled` when the account has no secret, `.unknownUser` when there is
    /// no such account.
    public func confirmTOTP(_ rawName: String) throws(AuthError) {
        let name = try Self.canonicalName(rawName)
        try AuthError.translating("confirm a TOTP secret") {
            try database.transaction {
                try database.run(
                    "UPDATE account_totp SET confirmed = 1 WHERE username = ?", [.text(name)])
                if database.changes == 0 {
                    try throwMissingTOTP(name)
                }
            }
        }
    }

    /// The account's TOTP state with the secret decrypted, or nil when it has no secret.
    ///
    /// Throws `.secretUnreadable` when the box does not open under `encryptionKey` (wrong key,
    /// or an altered or moved row), `.invalidSecret` for a key that is not 32 bytes,
    /// `.unknownUser` when there is no such account.
    public func totpState(_ rawName: String, encryptionKey: [UInt8]) throws(AuthError)
        -> (secret: [UInt8], confirmed: Bool, lastAcceptedStep: UInt64?)?
    {
        try storedTOTP(rawName, encryptionKey: encryptionKey).map {
            ($0.secret, $0.confirmed, $0.lastAcceptedStep)
        }
    }

    /// ``totpState(_:encryptionKey:)`` as a named value.
    public func storedTOTP(_ rawName: String, encryptionKey: [UInt8]) throws(AuthError)
        -> TOTPState?
    {
        let name = try Self.canonicalName(rawName)
        try Self.checkKey(encryptionKey)
        let row = try AuthError.translating("read a TOTP secret") {
            _ = try requireAccount(name)
            return try database.query(
                "SELECT sealed_secret, confirmed, last_step, issued_by_admin FROM account_totp "
                    + "WHERE username = ?",
                [.text(name)]
            ) { row -> (sealed: [UInt8], confirmed: Bool, lastStep: Int64?, byAdmin: Bool) in
                (
                    row.blob(at: 0), row.int64(at: 1) != 0, row.isNull(at: 2) ? nil : row.int64(at: 2),
                    row.int64(at: 3) != 0
                )
            }.first
        }
        guard let row else {
            return nil
        }
        let secret: [UInt8]
        do {
            secret = try AESGCM.open(
                row.sealed, key: encryptionKey, aad: Self.totpAssociatedData(name))
        } catch {
            throw AuthError(
                .secretUnreadable, "the stored TOTP secret does not decrypt with this key",
                cause: String(describing: error))
        }
        return TOTPState(
            secret: secret, confirmed: row.confirmed,
            lastAcceptedStep: row.lastStep.map { UInt64($0) }, issuedByAdministrator: row.byAdmin)
    }

    /// Records that the code of time step `step` was accepted, unless a step at least as new
    /// was accepted before: returns false then, and the caller must refuse the code.
    ///
    /// This is the one-use rule of RFC 6238 section 5.2, extended to older steps so that a
    /// code from the tolerance window cannot be used after a newer one. It is a single
    /// conditional UPDATE inside a write transaction, so of two connections racing with the
    /// same code exactly one gets true. Throws `.totpNotEnrolled` when the account has no
    /// secret, `.unknownUser` when there is no such account.
    public func recordAcceptedTOTPStep(_ rawName: String, step: UInt64) throws(AuthError) -> Bool {
        let name = try Self.canonicalName(rawName)
        guard let stored = Int64(exactly: step) else {
            // No clock reaches such a step; refusing it keeps the column a plain integer.
            return false
        }
        return try AuthError.translating("record a TOTP step") {
            try database.transaction {
                try database.run(
                    "UPDATE account_totp SET last_step = ? "
                        + "WHERE username = ? AND (last_step IS NULL OR last_step < ?)",
                    [.integer(stored), .text(name), .integer(stored)])
                if database.changes == 1 {
                    return true
                }
                try throwMissingTOTP(name)
                return false
            }
        }
    }

    /// Throws `.unknownUser` or `.totpNotEnrolled` when the account or its secret is missing;
    /// returns when both exist.
    private func throwMissingTOTP(_ name: String) throws {
        _ = try requireAccount(name)
        let enrolled = try database.scalar(
            "SELECT count(*) FROM account_totp WHERE username = ?", [.text(name)])
        guard enrolled == 1 else {
            throw AuthError(.totpNotEnrolled, "the account has no TOTP secret")
        }
    }

    private static func checkKey(_ key: [UInt8]) throws(AuthError) {
        guard key.count == AESGCM.keyByteCount else {
            throw AuthError(.invalidSecret, "a TOTP encryption key has 32 bytes")
        }
    }

    /// The additional data a sealed secret is bound to: a purpose label and the account name.
    private static func totpAssociatedData(_ name: String) -> [UInt8] {
        Array("phigate.totp.v1:".utf8) + Array(name.utf8)
    }
}
