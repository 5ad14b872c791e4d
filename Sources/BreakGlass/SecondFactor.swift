import Auth
import Crypto
import Store
import Support

/// The break-glass second factor: TOTP codes (RFC 6238: HMAC-SHA-1, six digits, 30-second
/// steps) checked against the secret the ``IdentityStore`` keeps sealed for each account.
///
/// A code is accepted for the current step and one step either side, compared in constant
/// time, and at most once: accepting step `s` refuses every code of a step up to `s` from
/// then on (`.replayed`). Wrong and replayed codes draw on a per-account budget
/// (``SecondFactorPolicy``): when it runs out the factor is locked, for longer each time.
/// The budget lives in the records database, so it survives restarts and holds across
/// connections.
///
/// Threading: like its `IdentityStore` and `Database`, one thread at a time; not `Sendable`.
/// Each check is one `BEGIN IMMEDIATE` transaction, so two connections racing with the same
/// code serialize and exactly one is accepted.
public final class SecondFactor {
    /// Digits per code.
    public static let digits = 6
    /// Seconds per time step.
    public static let periodSeconds: Int64 = 30
    /// The issuer named in provisioning URIs and shown by authenticator apps.
    public static let issuer = "phigate"

    /// A freshly provisioned secret, for the user's authenticator app and nobody else.
    ///
    /// Its description hides the secret so that it does not reach a log by accident.
    public struct Enrollment: Sendable, Equatable, CustomStringConvertible {
        /// The secret as unpadded base32, for typing into an app.
        public var secretBase32: String
        /// The `otpauth://totp/` URI an app scans or opens.
        public var otpauthURI: String

        public var description: String { "Enrollment(secret: <redacted>)" }
    }

    /// Who asks for a new secret, which decides what the new secret may replace.
    public enum Issuer: Sendable, Equatable {
        /// The account holder with only their session (`POST /auth/totp/enroll`): gets a
        /// secret when the account has none, and may replace one they enrolled themselves
        /// while it is still unconfirmed (an app set up wrongly, a URI closed too early).
        case accountHolder
        /// An administrator (`phigate user totp`): issues or replaces any secret, confirmed
        /// or not, as when re-issuing a lost authenticator.
        case administrator
    }

    /// The store holding accounts and their sealed secrets; its database holds the budget.
    public let identities: IdentityStore
    /// The failure budget.
    public let policy: SecondFactorPolicy
    /// The AES-256-GCM key the secrets are sealed under.
    private let encryptionKey: [UInt8]

    var database: Database { identities.database }

    /// A second factor over `identities`, with secrets sealed under `encryptionKey`.
    ///
    /// Creates or migrates the break-glass tables in the identity store's database. Throws
    /// `.invalidKey` for a key that is not 32 bytes, `.invalidPolicy` for a bad policy.
    public init(
        identities: IdentityStore, encryptionKey: [UInt8],
        policy: SecondFactorPolicy = SecondFactorPolicy()
    ) throws(BreakGlassError) {
        guard encryptionKey.count == AESGCM.keyByteCount else {
            throw BreakGlassError(.invalidKey, "the second-factor encryption key has 32 bytes")
        }
        try policy.validate()
        try BreakGlassSchema.prepare(identities.database)
        self.identities = identities
        self.encryptionKey = encryptionKey
        self.policy = policy
    }

    /// Gives the account a new random 20-byte secret, unconfirmed until ``confirm`` accepts
    /// a code from it, and returns it with its provisioning URI.
    ///
    /// The secret records its `issuer`. An administrator replaces any secret. The account
    /// holder, who may be anyone holding their session, replaces neither a confirmed secret
    /// (`.alreadyEnrolled`) nor an unconfirmed one an administrator issued
    /// (`.issuedByAdministrator`), so that a password alone cannot swap the factor for one of
    /// their own; they may replace only their own unconfirmed self-enrolled secret. The check
    /// and the write are one transaction. The last accepted step is kept across a
    /// replacement. Throws `.unknownUser` when there is no such account.
    public func provision(
        _ username: String, issuer: Issuer = .accountHolder
    ) throws(BreakGlassError) -> Enrollment {
        let name = try Self.canonical(username)
        let secret = SecureRandom.bytes(TOTP.recommendedSecretByteCount)
        try BreakGlassError.translating("provision a second factor") {
            try database.transaction {
                let existing = try identities.storedTOTP(name, encryptionKey: encryptionKey)
                if let existing, issuer == .accountHolder {
                    try Self.checkSelfReplacement(of: existing)
                }
                try identities.setTOTPSecret(
                    name, secret: secret, encryptionKey: encryptionKey, confirmed: false,
                    issuedByAdministrator: issuer == .administrator)
            }
        }
        return Enrollment(
            secretBase32: Base32.encode(secret),
            otpauthURI: Self.otpauthURI(username: name, secret: secret))
    }

    /// Checks a code from a provisioned secret and marks the secret confirmed; returns the
    /// accepted step. The same rules as ``verify`` apply, except that the secret need not be
    /// confirmed yet; confirming a confirmed secret again is allowed and changes nothing else.
    @discardableResult
    public func confirm(
        _ username: String, code: String, now: Int64? = nil
    ) throws(BreakGlassError) -> UInt64 {
        try check(username, code: code, now: now, confirming: true, spending: true)
    }

    /// Checks a code from the account's confirmed secret and returns the step it belongs to.
    ///
    /// In this order: a code that is not exactly six ASCII digits is `.malformedCode`,
    /// without being compared or counted (a space, a sign, full-width digits and a trailing
    /// newline are all refused rather than cleaned up); a locked factor is `.factorLocked`;
    /// an account without a confirmed secret is `.notEnrolled`. Then the code is compared
    /// with those of the previous, current and next steps: none matching is `.wrongCode`; a
    /// match whose step, or a newer one, was accepted before is `.replayed`. Both count
    /// against the budget; the failure that exhausts it keeps its code and also carries
    /// ``BreakGlassError/lockedUntil`` and ``BreakGlassError/lockoutStarted``. Success
    /// forgets earlier failures and resets the lockout doubling.
    ///
    /// With `spending` false a matching code is checked the same way, failures included, but
    /// not marked used and nothing is forgotten: for a request refused after the check, so
    /// that the user can send the same code again with the request corrected.
    @discardableResult
    public func verify(
        _ username: String, code: String, now: Int64? = nil, spending: Bool = true
    ) throws(BreakGlassError) -> UInt64 {
        try check(username, code: code, now: now, confirming: false, spending: spending)
    }

    /// The provisioning URI of `secret` for the (canonical) `username`, in the Key URI format
    /// authenticator apps read: label `phigate:<username>`, then secret, issuer, algorithm,
    /// digits and period. The account name is percent-encoded (RFC 3986: every byte outside
    /// the unreserved characters).
    public static func otpauthURI(username: String, secret: [UInt8]) -> String {
        let label = percentEncoded(issuer) + ":" + percentEncoded(username)
        return "otpauth://totp/" + label + "?secret=" + Base32.encode(secret)
            + "&issuer=" + percentEncoded(issuer) + "&algorithm=SHA1&digits=\(digits)"
            + "&period=\(periodSeconds)"
    }

    /// The code of `step` for `secret`, for tests and the demo setup.
    public static func code(secret: [UInt8], step: UInt64) -> String {
        TOTP.code(secret: secret, counter: step, digits: digits, algorithm: .sha1)
    }

    /// The step that `now` falls in.
    public static func step(at now: Int64) -> UInt64 {
        TOTP.counter(at: now, step: periodSeconds)
    }

    // MARK: - Checking

    private func check(
        _ username: String, code: String, now: Int64?, confirming: Bool, spending: Bool
    ) throws(BreakGlassError) -> UInt64 {
        guard TOTP.isWellFormedCode(code, digits: Self.digits) else {
            throw BreakGlassError(.malformedCode, "a code is exactly six digits")
        }
        let name = try Self.canonical(username)
        let now = now ?? identities.clock.unixSeconds()
        let outcome = try BreakGlassError.translating("check a second-factor code") {
            try database.transaction { () throws -> Result<UInt64, BreakGlassError> in
                try attempt(name, code: code, now: now, confirming: confirming, spending: spending)
            }
        }
        return try outcome.get()
    }

    /// One attempt inside the caller's transaction. Failures are returned, not thrown, so
    /// that the failure count written here is committed with them.
    private func attempt(
        _ name: String, code: String, now: Int64, confirming: Bool, spending: Bool
    ) throws -> Result<UInt64, BreakGlassError> {
        if let until = try lockedUntil(name, at: now) {
            return .failure(.factorLocked(until: until))
        }
        guard let state = try identities.storedTOTP(name, encryptionKey: encryptionKey),
            state.confirmed || confirming
        else {
            return .failure(
                BreakGlassError(.notEnrolled, "the account has no confirmed second factor"))
        }
        guard let step = Self.matchingStep(code, secret: state.secret, now: now) else {
            return .failure(
                try recordFailure(
                    of: name, at: now,
                    BreakGlassError(.wrongCode, "the code is not valid now")))
        }
        let replayed = BreakGlassError(.replayed, "this code, or a newer one, was already used")
        guard spending else {
            // Read inside this BEGIN IMMEDIATE transaction, so no other connection moves it.
            if let last = state.lastAcceptedStep, last >= step {
                return .failure(try recordFailure(of: name, at: now, replayed))
            }
            return .success(step)
        }
        // One conditional UPDATE decides: it refuses the step when it, or a newer one, was
        // accepted before, including by another connection a moment ago.
        guard try identities.recordAcceptedTOTPStep(name, step: step) else {
            return .failure(try recordFailure(of: name, at: now, replayed))
        }
        if confirming {
            try identities.confirmTOTP(name)
        }
        try clearFailures(of: name)
        return .success(step)
    }

    /// The newest of the steps `now - 1`, `now`, `now + 1` whose code equals `code`.
    ///
    /// Every candidate is computed and compared in constant time, whatever matched, so the
    /// time taken does not tell which step (if any) the code belongs to.
    static func matchingStep(_ code: String, secret: [UInt8], now: Int64) -> UInt64? {
        let current = step(at: now)
        let candidates = [current == 0 ? nil : current - 1, current, current + 1]
        let typed = Array(code.utf8)
        var matched: UInt64?
        for candidate in candidates {
            guard let candidate else { continue }
            let expected = Array(Self.code(secret: secret, step: candidate).utf8)
            if constantTimeEquals(expected, typed) {
                matched = candidate
            }
        }
        return matched
    }

    // MARK: - Helpers

    /// Throws unless the account holder may replace `existing` with a secret of their own.
    static func checkSelfReplacement(of existing: TOTPState) throws(BreakGlassError) {
        if existing.confirmed {
            throw BreakGlassError(
                .alreadyEnrolled, "a confirmed second factor exists for this account")
        }
        if existing.issuedByAdministrator {
            throw BreakGlassError(
                .issuedByAdministrator,
                "an administrator issued a second factor for this account that is not confirmed")
        }
    }

    static func canonical(_ username: String) throws(BreakGlassError) -> String {
        guard let name = Username.canonical(username) else {
            throw BreakGlassError(.unknownUser, "no such account")
        }
        return name
    }

    private static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return out
    }
}
