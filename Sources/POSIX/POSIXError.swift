#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call: which call, and the errno it left.
///
/// This module is the only place that reads `errno`; everything above it sees this value.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// Captures the calling thread's errno right after `operation` failed.
    static func last(_ operation: String) -> SystemCallError {
        SystemCallError(operation: operation, errno: Glibc.errno)
    }

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }

    public var isAddressInUse: Bool { errno == EADDRINUSE }
}

/// What a non-blocking read or write did.
public enum IOResult: Equatable, Sendable {
    /// This many bytes moved (always > 0).
    case bytes(Int)
    /// Nothing could move now; wait for readiness.
    case wouldBlock
    /// The peer closed its side (reads only).
    case endOfFile
    /// The connection is broken (ECONNRESET, EPIPE, ...); close it.
    case failed(SystemCallError)
}

@inline(__always)
func classify(_ n: Int, _ operation: StaticString) -> IOResult {
    if n > 0 { return .bytes(n) }
    if n == 0 { return .endOfFile }
    let code = Glibc.errno
    if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
    return .failed(SystemCallError(operation: "\(operation)", errno: code))
}
