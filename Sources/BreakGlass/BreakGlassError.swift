import Auth
import Store

/// The one error type of the BreakGlass module.
///
/// `code` is what the App switches on to choose a status and an alert; `message` is safe to
/// show the client and to log. No message ever holds a TOTP code or secret, a justification,
/// review notes or a patient id: the ids that appear are grant ids, which are not PHI.
///
/// Two codes carry extra facts: `.factorLocked` has ``lockedUntil`` (and ``lockoutStarted``
/// on the failure that began the lockout, so that one alert is raised per lockout), and
/// `.alreadyActive` has ``grantID``, the grant the caller already holds for that patient.
public struct BreakGlassError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as an extensible set of named values rather than a frozen enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for logs and metrics.
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        // Second factor.
        /// The code is not exactly six ASCII digits; it was refused without being compared.
        public static let malformedCode = Code("malformed_code")
        /// The code matches none of the accepted time steps.
        public static let wrongCode = Code("wrong_code")
        /// The code is right but its step, or a newer one, was accepted before: a reused or
        /// stale code, worth an alert.
        public static let replayed = Code("replayed")
        /// Too many wrong codes; the factor refuses every code until ``lockedUntil``.
        public static let factorLocked = Code("factor_locked")
        /// The account has no TOTP secret, or (for break-glass) none it has confirmed.
        public static let notEnrolled = Code("not_enrolled")
        /// Provisioning would replace a confirmed secret without being asked to.
        public static let alreadyEnrolled = Code("already_enrolled")
        /// Self-enrolment would replace a secret an administrator issued and the holder has
        /// not confirmed yet: they confirm that one, or an administrator resets it.
        public static let issuedByAdministrator = Code("issued_by_administrator")
        /// The account does not exist or its name does not canonicalize.
        public static let unknownUser = Code("unknown_user")
        /// The TOTP encryption key is not 32 bytes, or a stored secret does not decrypt.
        public static let invalidKey = Code("invalid_key")

        // Activation.
        /// The reason is not one of the documented ``ReasonCode`` values.
        public static let invalidReason = Code("invalid_reason")
        /// The justification is too short, too long or holds control characters.
        public static let invalidJustification = Code("invalid_justification")
        /// The caller did not acknowledge that the access is recorded and reviewed.
        public static let notAcknowledged = Code("not_acknowledged")
        /// The patient id is not a FHIR logical id.
        public static let invalidPatientID = Code("invalid_patient_id")
        /// The requested duration is outside 1 minute to the policy's maximum.
        public static let invalidDuration = Code("invalid_duration")
        /// The caller already holds the policy's maximum number of active grants.
        public static let tooManyActiveGrants = Code("too_many_active_grants")
        /// The caller already holds an active grant for this patient (see ``grantID``).
        public static let alreadyActive = Code("already_active")

        // Grants and reviews.
        /// The principal's role may not do this (activate, end another's grant, review).
        public static let notPermitted = Code("not_permitted")
        /// No grant has this id.
        public static let notFound = Code("not_found")
        /// The grant has already ended or expired.
        public static let notActive = Code("not_active")
        /// A reviewer tried to review their own grant.
        public static let selfReview = Code("self_review")
        /// The grant's review is closed (its last disposition was not needs-follow-up).
        public static let alreadyReviewed = Code("already_reviewed")
        /// Review notes longer than allowed or holding control characters.
        public static let invalidNotes = Code("invalid_notes")

        // Operation.
        /// A `BreakGlassPolicy` or `SecondFactorPolicy` value out of range.
        public static let invalidPolicy = Code("invalid_policy")
        /// The database failed, or holds a row this program cannot read.
        public static let storage = Code("storage")
    }

    /// What went wrong.
    public var code: Code
    /// A message without secrets, codes, free text or patient ids, fit for a client or a log.
    public var message: String
    /// For `.factorLocked`: when the lockout ends (Unix seconds).
    public var lockedUntil: Int64?
    /// For `.factorLocked`: true on the one failure that started the lockout.
    public var lockoutStarted: Bool
    /// For `.alreadyActive`: the id of the grant the caller already holds.
    public var grantID: String?
    /// The description of the underlying `StoreError` or `AuthError`, for the log only.
    public var cause: String?

    public init(
        _ code: Code, _ message: String, lockedUntil: Int64? = nil, lockoutStarted: Bool = false,
        grantID: String? = nil, cause: String? = nil
    ) {
        self.code = code
        self.message = message
        self.lockedUntil = lockedUntil
        self.lockoutStarted = lockoutStarted
        self.grantID = grantID
        self.cause = cause
    }

    public var description: String {
        var text = "BreakGlassError(\(code)): \(message)"
        if let cause {
            text += " [" + cause + "]"
        }
        return text
    }
}

extension BreakGlassError {
    /// The factor is locked until `until`; `started` marks the failure that locked it.
    public static func factorLocked(until: Int64, started: Bool = false) -> BreakGlassError {
        BreakGlassError(
            .factorLocked, "too many wrong codes; the second factor is locked for a while",
            lockedUntil: until, lockoutStarted: started)
    }

    /// The caller already holds `grantID` for the patient.
    public static func alreadyActive(_ grantID: String) -> BreakGlassError {
        BreakGlassError(
            .alreadyActive, "an active break-glass grant for this patient exists: " + grantID,
            grantID: grantID)
    }

    static func storage(_ message: String) -> BreakGlassError {
        BreakGlassError(.storage, message)
    }

    /// Runs `body`, turning a `StoreError` or `AuthError` into a `BreakGlassError` so that
    /// every public entry point throws one type. A `BreakGlassError` passes unchanged.
    static func translating<Result>(
        _ operation: String, _ body: () throws -> Result
    ) throws(BreakGlassError) -> Result {
        do {
            return try body()
        } catch {
            throw translated(error, operation)
        }
    }

    /// Runs `body` in a transaction on `database`. An error a caller's hook threw (wrapped in
    /// ``HookFailure`` by ``runHook(_:_:)``) is rethrown unchanged after the rollback; every
    /// other error is translated as in ``translating(_:_:)``.
    static func transaction<Result>(
        _ database: Database, _ operation: String, _ body: () throws -> Result
    ) throws -> Result {
        do {
            return try database.transaction(body)
        } catch let failure as HookFailure {
            throw failure.underlying
        } catch {
            throw translated(error, operation)
        }
    }

    /// Calls a caller's hook with `value`, marking what it throws as the caller's own error.
    static func runHook<Value>(_ hook: (Value) throws -> Void, _ value: Value) throws {
        do {
            try hook(value)
        } catch {
            throw HookFailure(underlying: error)
        }
    }

    /// Any error as a `BreakGlassError`.
    static func translated(_ error: any Error, _ operation: String) -> BreakGlassError {
        switch error {
        case let error as BreakGlassError:
            return error
        case let error as AuthError:
            return translate(error, operation)
        case let error as StoreError:
            return BreakGlassError(
                .storage, "the break-glass store failed to " + operation,
                cause: error.description)
        default:
            return BreakGlassError(.storage, "the break-glass store failed to " + operation)
        }
    }

    /// The `BreakGlassError` for an `AuthError` from the identity store.
    static func translate(_ error: AuthError, _ operation: String) -> BreakGlassError {
        switch error.code {
        case .totpNotEnrolled:
            return BreakGlassError(.notEnrolled, "the account has no second factor enrolled")
        case .unknownUser, .invalidUsername:
            return BreakGlassError(.unknownUser, "no such account")
        case .invalidSecret, .secretUnreadable:
            return BreakGlassError(
                .invalidKey, "the second factor's secret cannot be read with this key",
                cause: error.description)
        default:
            return BreakGlassError(
                .storage, "the identity store failed to " + operation, cause: error.description)
        }
    }
}

/// An error thrown by a caller's `within` hook, carried through the transaction so that it
/// reaches the caller unchanged instead of being taken for a storage failure.
struct HookFailure: Error {
    let underlying: any Error
}
