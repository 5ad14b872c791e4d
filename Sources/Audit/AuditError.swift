public import Store

/// The one error type of the Audit module.
///
/// A value carries a `code` a caller can switch on, the operation that failed and a message that
/// is safe to log: it never contains an entry's field values, a key, a signature or a note body,
/// only positions (sequence numbers, byte offsets) and names this program wrote. When the
/// failure came from the audit database, `storeCode` names the SQLite condition (disk full,
/// read-only file, I/O error) so that an operator can tell them apart.
public struct AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as an extensible set of named values rather than a frozen enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for logs and metrics.
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        /// The writer's queue is at capacity; the entry was not accepted.
        public static let queueFull = Code("queue_full")
        /// The writer was closed; the entry was not accepted.
        public static let closed = Code("closed")
        /// The caller stopped waiting before the entry was durable. The entry may still be
        /// committed later; the caller must treat it as not written.
        public static let timeout = Code("timeout")
        /// The audit database refused the write (see `storeCode`); nothing of the group was kept.
        public static let writeFailed = Code("write_failed")
        /// The audit database could not be opened, migrated or read.
        public static let storage = Code("storage")
        /// An entry cannot be encoded canonically (an integer outside the exact range).
        public static let invalidEntry = Code("invalid_entry")
        /// Bytes are not a well-formed audit entry.
        public static let malformedEntry = Code("malformed_entry")
        /// A signed note carries no valid signature from the expected key.
        public static let badSignature = Code("bad_signature")
        /// Text is not in signed-note form (no blank line before the signatures, a line that
        /// is not a signature, a control character).
        public static let malformedNote = Code("malformed_note")
        /// A checkpoint body does not follow the tlog-checkpoint format.
        public static let malformedCheckpoint = Code("malformed_checkpoint")
        /// The signing key file is missing, unreadable or not an Ed25519 key.
        public static let keyFile = Code("key_file")
        /// The signing key file can be read by other users or is not owned by this user.
        public static let insecureKeyFile = Code("insecure_key_file")
        /// A cryptographic operation failed.
        public static let crypto = Code("crypto")
    }

    /// What went wrong.
    public let code: Code
    /// Which operation failed ("append", "verify", "load key"), for the log.
    public let operation: String
    /// A message without entry contents, secrets or SQL arguments.
    public let message: String
    /// The Store module's code when the audit database caused the failure.
    public let storeCode: StoreError.Code?

    public init(
        _ code: Code, operation: String, message: String, storeCode: StoreError.Code? = nil
    ) {
        self.code = code
        self.operation = operation
        self.message = message
        self.storeCode = storeCode
    }

    public var description: String {
        let cause = storeCode.map { ", store \($0)" } ?? ""
        return "AuditError(\(code), \(operation)\(cause)): \(message)"
    }
}

extension AuditError {
    /// Wraps a failure of the audit database. Store messages are already free of SQL arguments.
    static func store(_ error: any Error, code: Code = .storage, operation: String) -> AuditError {
        if let auditError = error as? AuditError {
            return auditError
        }
        guard let storeError = error as? StoreError else {
            // Only Store and this module throw inside audit database work; anything else is
            // described by its type alone, since its text could quote data.
            return AuditError(
                code, operation: operation, message: "unexpected \(type(of: error)) error")
        }
        return AuditError(
            code, operation: operation, message: storeError.message, storeCode: storeError.code)
    }
}
