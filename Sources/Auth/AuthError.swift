import Crypto
import Store

/// The one error type of the Auth module.
///
/// `code` is what a caller switches on to choose a status; `message` is safe to show a client
/// or an operator. Neither ever holds a password, a token, a TOTP secret or code, or the raw
/// text a caller typed as a username (which is sometimes a password typed into the wrong
/// field). A canonical username appears only in messages of administrative operations, whose
/// caller supplied it and may list accounts anyway; login failures never name the account.
///
/// A failed login carries a ``LoginFailure`` with the facts the audit log and the alerting
/// need (the true reason, whether a lockout started); those facts are for the server's own
/// records and must not be sent to the client.
public struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as an extensible set of named values rather than a frozen enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for logs and metrics.
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        /// The username or password is wrong, the account does not exist or is disabled.
        /// Login answers all of these alike so that a client learns nothing about accounts.
        public static let invalidCredentials = Code("invalid_credentials")
        /// Too many failed logins for this name; retry after `LoginFailure.lockedUntil`.
        public static let locked = Code("locked")
        /// The account behind a session has been disabled.
        public static let disabled = Code("disabled")
        /// A username that does not canonicalize (see ``Username``).
        public static let invalidUsername = Code("invalid_username")
        /// An account with the same canonical name exists.
        public static let duplicateUser = Code("duplicate_user")
        /// No account has this name (administrative operations only; login never says so).
        public static let unknownUser = Code("unknown_user")
        /// A new password is shorter than the policy's minimum, too long, or is the username.
        public static let weakPassword = Code("weak_password")
        /// The operation does not fit the account's role (a practitioner id or a care
        /// assignment for an account that is not a clinician).
        public static let invalidRole = Code("invalid_role")
        /// A practitioner or patient id that is not a FHIR logical id.
        public static let invalidIdentifier = Code("invalid_identifier")
        /// The session passed its idle timeout or its absolute lifetime; it has been removed.
        public static let sessionExpired = Code("session_expired")
        /// The bearer token is malformed or names no session.
        public static let invalidToken = Code("invalid_token")
        /// The account has no TOTP secret.
        public static let totpNotEnrolled = Code("totp_not_enrolled")
        /// A TOTP secret or encryption key of the wrong size.
        public static let invalidSecret = Code("invalid_secret")
        /// A stored TOTP secret does not decrypt: the key is wrong or the row was altered.
        public static let secretUnreadable = Code("secret_unreadable")
        /// An `AuthPolicy` value out of range.
        public static let invalidPolicy = Code("invalid_policy")
        /// The identity database failed, or holds a row this program cannot read.
        public static let storage = Code("storage")
        /// A cryptographic operation failed in the library (not a wrong secret).
        public static let crypto = Code("crypto")
    }

    /// What went wrong.
    public var code: Code
    /// A message without secrets, tokens or raw input, fit for a client or a log.
    public var message: String
    /// For a failed login: what really happened, for the audit log and alerts only.
    public var loginFailure: LoginFailure?
    /// The description of the underlying `StoreError` or `CryptoError`, for the log. Those
    /// types keep SQL arguments and key material out of their descriptions.
    public var cause: String?

    public init(
        _ code: Code, _ message: String, loginFailure: LoginFailure? = nil, cause: String? = nil
    ) {
        self.code = code
        self.message = message
        self.loginFailure = loginFailure
        self.cause = cause
    }

    /// True when this failure is the one that started a lockout, so that exactly one
    /// `auth.lockout` alert is raised per lockout.
    public var lockoutStarted: Bool {
        loginFailure?.lockoutStarted ?? false
    }

    public var description: String {
        var text = "AuthError(\(code)): \(message)"
        if let cause {
            text += " [" + cause + "]"
        }
        return text
    }
}

extension AuthError {
    /// The login failure every client sees for a wrong password, an unknown or disabled
    /// account and a name that does not canonicalize.
    static func invalidCredentials(_ failure: LoginFailure) -> AuthError {
        AuthError(.invalidCredentials, "invalid username or password", loginFailure: failure)
    }

    static func invalidUsername() -> AuthError {
        AuthError(
            .invalidUsername,
            "a username is 1 to 64 characters of a-z, 0-9, '.', '_', '@' and '-', "
                + "starting with a letter or digit")
    }

    static func unknownUser(_ canonicalName: String) -> AuthError {
        AuthError(.unknownUser, "no account named '\(canonicalName)'")
    }

    static func storage(_ message: String) -> AuthError {
        AuthError(.storage, message)
    }

    /// Runs `body`, turning a `StoreError` or `CryptoError` into an `AuthError` so that every
    /// public entry point of the module throws one type. An `AuthError` passes unchanged.
    static func translating<Result>(
        _ operation: String, _ body: () throws -> Result
    ) throws(AuthError) -> Result {
        do {
            return try body()
        } catch let error as AuthError {
            throw error
        } catch let error as StoreError {
            throw AuthError(
                .storage, "the identity store failed to " + operation,
                cause: error.description)
        } catch let error as CryptoError {
            throw AuthError(
                .crypto, "a cryptographic operation failed to " + operation,
                cause: error.description)
        } catch {
            throw AuthError(.storage, "the identity store failed to " + operation)
        }
    }
}
