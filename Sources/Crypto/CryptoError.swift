internal import COpenSSL

/// A failed cryptographic operation, as a value.
///
/// The message is safe to log and to show an operator: it names the operation and, when
/// OpenSSL failed, the library's reason strings (such as `EVP routines::bad decrypt`). It never
/// contains key material, plaintext, passwords, signatures or digests, and it never contains
/// the free-form "additional data" OpenSSL can attach to an error, because that may echo input.
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Codes are an open set: match on the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A short stable identifier, for example `invalid-key`.
        public let rawValue: String

        public init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        /// A key has the wrong length or is not a key of the expected type.
        public static let invalidKey = Code("invalid-key")
        /// A parameter (cost, length, nonce size) is out of its allowed range.
        public static let invalidParameter = Code("invalid-parameter")
        /// Input that should be an encoding (PEM, sealed box) does not parse.
        public static let malformedInput = Code("malformed-input")
        /// An authenticated decryption found the ciphertext, nonce, tag or AAD altered.
        public static let authenticationFailure = Code("authentication-failure")
        /// OpenSSL reported a failure that no other code describes.
        public static let libraryFailure = Code("library-failure")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation free of secrets.
    public var message: String
    /// Where it happened, as `Type.operation` (for example `AESGCM.open`).
    public var operation: String
    /// The OpenSSL reason strings drained from the error queue, oldest first; empty when the
    /// failure was detected in Swift.
    public var libraryReasons: [String]

    public init(
        _ code: Code, _ message: String, operation: String, libraryReasons: [String] = []
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.libraryReasons = libraryReasons
    }

    public var description: String {
        var text = "\(operation): \(code): \(message)"
        if !libraryReasons.isEmpty {
            text += " [" + libraryReasons.joined(separator: "; ") + "]"
        }
        return text
    }
}

extension CryptoError {
    /// Builds an error from the thread's OpenSSL error queue, emptying the queue.
    ///
    /// This is the only function in the module that reads the queue. Call it on every OpenSSL
    /// failure path, including those that report `false` instead of throwing (a failed
    /// signature verification), so that a stale entry cannot be blamed on a later, unrelated
    /// call on the same thread, TLS included.
    static func drainingOpenSSLQueue(
        _ code: Code, _ message: String, operation: String
    ) -> CryptoError {
        var reasons: [String] = []
        while true {
            let packed = ERR_get_error()
            if packed == 0 {
                break
            }
            // At most eight entries are kept; the rest are still removed from the queue.
            if reasons.count < 8 {
                reasons.append(reasonText(packed))
            }
        }
        return CryptoError(code, message, operation: operation, libraryReasons: reasons)
    }

    /// The "library::reason" text of a packed error code, without OpenSSL's hex prefix.
    private static func reasonText(_ packed: UInt) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(packed, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        // The format is "error:<hex code>:<library>:<function>:<reason>".
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[2]) : text
    }
}
