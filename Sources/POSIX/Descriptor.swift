#if canImport(Glibc)
    import Glibc
#endif

/// Raw, non-owning operations on a file descriptor. Whoever holds the descriptor closes it.
public enum Descriptor {
    /// Reads into `buffer`, retrying on EINTR.
    @inline(__always)
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && Glibc.errno == EINTR { continue }
            if n == 0 && buffer.count == 0 { return .wouldBlock }
            return classify(n, "read")
        }
    }

    /// Writes from `buffer` with MSG_NOSIGNAL (a vanished peer is EPIPE, never SIGPIPE).
    @inline(__always)
    public static func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if n < 0 && Glibc.errno == EINTR { continue }
            if n == 0 { return .wouldBlock }
            return classify(n, "send")
        }
    }

    /// Closes `fd`. EINTR is not retried: on Linux the descriptor is released regardless.
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Half-closes the write side so the peer sees EOF after the last response byte.
    public static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}
