internal import CZlib

/// A failed compression or decompression, as a value.
///
/// The message names the operation and, for zlib failures, zlib's own fixed description
/// (such as "incorrect header check"); it never contains the data being processed.
public struct CompressionError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Codes are an open set: match on the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A short stable identifier, for example `corrupt-data`.
        public let rawValue: String

        public init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        /// A parameter such as the compression level is out of range.
        public static let invalidParameter = Code("invalid-parameter")
        /// The input is not a valid gzip or zlib stream (bad header, bad block, bad checksum,
        /// or bytes after the end of the last member).
        public static let corruptData = Code("corrupt-data")
        /// The input ends before the compressed stream does.
        public static let truncatedData = Code("truncated-data")
        /// Decompressing would produce more than the caller allowed (a "zip bomb" or simply
        /// too large a body).
        public static let outputLimitExceeded = Code("output-limit-exceeded")
        /// A stream was used after `finish()`.
        public static let streamFinished = Code("stream-finished")
        /// zlib reported a failure that no other code describes (usually out of memory).
        public static let libraryFailure = Code("library-failure")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation free of the data being processed.
    public var message: String
    /// Where it happened, as `Type.operation` (for example `Gzip.decompress`).
    public var operation: String
    /// The zlib return code, when zlib reported the failure.
    public var zlibStatus: Int32?

    public init(_ code: Code, _ message: String, operation: String, zlibStatus: Int32? = nil) {
        self.code = code
        self.message = message
        self.operation = operation
        self.zlibStatus = zlibStatus
    }

    public var description: String {
        let status = zlibStatus.map { " (zlib \($0))" } ?? ""
        return "\(operation): \(code): \(message)\(status)"
    }
}

extension CompressionError {
    /// Translates a failing zlib return code and the stream's `msg`; the only place in the
    /// module that reads either.
    static func zlib(
        _ status: Int32, streamMessage: UnsafePointer<CChar>?, operation: String
    ) -> CompressionError {
        let detail = streamMessage.map { String(cString: $0) } ?? "zlib error"
        let code: Code =
            switch status {
            case Z_DATA_ERROR, Z_NEED_DICT: .corruptData
            case Z_BUF_ERROR: .truncatedData
            default: .libraryFailure
            }
        return CompressionError(code, detail, operation: operation, zlibStatus: status)
    }
}
