internal import COpenSSL

/// A failed TLS operation, as a value.
///
/// The message is safe to log: it says what phigate was doing and, when OpenSSL failed, carries
/// the library's reason strings (such as `SSL routines::no shared cipher`). It never contains
/// key material, plaintext or certificate contents, and never the free-form "additional data"
/// OpenSSL can attach to an error, because that may echo input.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Codes are an open set: match on the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A short stable identifier, for example `handshake`.
        public let rawValue: String

        public init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        /// A certificate or CA file is missing, unreadable or does not parse.
        public static let certificate = Code("certificate")
        /// The private key is missing, unreadable, does not parse or does not match the
        /// certificate.
        public static let privateKey = Code("private-key")
        /// The private key file can be read or written by group or others, or is not a
        /// regular file; it was not loaded.
        public static let keyPermissions = Code("key-permissions")
        /// OpenSSL refused a setting (protocol range, cipher list, host name).
        public static let configuration = Code("configuration")
        /// The handshake failed: no shared protocol or cipher, a certificate the client does
        /// not trust, a malformed handshake message.
        public static let handshake = Code("handshake")
        /// The peer sent something that is not TLS (plain HTTP on the TLS port) or broke the
        /// protocol after the handshake.
        public static let protocolViolation = Code("protocol-violation")
        /// The connection is closed, by either side or after an earlier failure.
        public static let closed = Code("closed")
        /// Application data was offered before the handshake completed.
        public static let notEstablished = Code("not-established")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation free of secrets.
    public var message: String
    /// The OpenSSL reason strings drained from the error queue, oldest first; empty when the
    /// failure was detected in Swift.
    public var libraryReasons: [String]

    public init(_ code: Code, _ message: String, libraryReasons: [String] = []) {
        self.code = code
        self.message = message
        self.libraryReasons = libraryReasons
    }

    public var description: String {
        var text = "TLS \(code): \(message)"
        if !libraryReasons.isEmpty {
            text += " [" + libraryReasons.joined(separator: "; ") + "]"
        }
        return text
    }
}

extension TLSError {
    /// Builds an error from the thread's OpenSSL error queue, emptying the queue.
    ///
    /// This is the only function in the module that reads the queue. Every OpenSSL failure
    /// path calls it, so that a stale entry cannot be blamed on a later, unrelated call made on
    /// the same thread.
    static func drainingOpenSSLQueue(_ code: Code, _ message: String) -> TLSError {
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
        return TLSError(code, message, libraryReasons: reasons)
    }

    /// Empties the thread's OpenSSL error queue without reporting it.
    ///
    /// `SSL_get_error` is only meaningful when the queue was empty before the call it
    /// inspects. Entries left by an earlier failure on this thread (Crypto shares the queue)
    /// were already reported or deliberately ignored by their caller, so they are dropped.
    static func clearOpenSSLQueue() {
        ERR_clear_error()
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
