import Foundation
#if canImport(Glibc)
    import Glibc
#endif
internal import CPOSIX

/// A numeric IPv4 or IPv6 address with a port, as written in configuration ("127.0.0.1:8080",
/// "[::1]:8443"). Host names are refused: a gateway binds to an address, not a lookup.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Family: Sendable { case ipv4, ipv6 }

    public var host: String
    public var port: UInt16
    public var family: Family

    /// Parses "a.b.c.d:port" or "[v6]:port"; nil when malformed.
    public init?(parsing text: String) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            family = .ipv6
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            family = .ipv4
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = UInt16(portText)
        else { return nil }
        self.host = String(host)
        self.port = port
        guard Self.withSockaddr(host: self.host, port: port, family: family, { _, _ in true }) == true else {
            return nil
        }
    }

    public init(host: String, port: UInt16, family: Family) {
        self.host = host
        self.port = port
        self.family = family
    }

    public var description: String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Calls `body` with a filled sockaddr; nil when `host` is not a numeric address.
    static func withSockaddr<T>(
        host: String, port: UInt16, family: Family,
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> T
    ) -> T? {
        switch family {
        case .ipv4:
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { return nil }
            return withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6:
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &addr.sin6_addr) == 1 else { return nil }
            return withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// Decodes a kernel-filled sockaddr_storage.
    static func decode(_ storage: UnsafePointer<sockaddr_storage>) -> SocketAddress? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            return storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                var a = p.pointee.sin_addr
                guard inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil else { return nil }
                let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return SocketAddress(host: host, port: UInt16(bigEndian: p.pointee.sin_port), family: .ipv4)
            }
        case AF_INET6:
            return storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                var a = p.pointee.sin6_addr
                guard inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) != nil else { return nil }
                let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return SocketAddress(host: host, port: UInt16(bigEndian: p.pointee.sin6_port), family: .ipv6)
            }
        default:
            return nil
        }
    }
}

/// A listening TCP socket. Owned by one event loop, which closes it on purpose.
public final class ListeningSocket {
    public let fd: Int32
    public let address: SocketAddress
    private var closed = false

    /// Binds and listens, non-blocking and close-on-exec. With `reusePort`, several loops can
    /// each own a listener on the same address and the kernel spreads connections among them.
    public init(binding address: SocketAddress, backlog: Int32 = 1024, reusePort: Bool) throws(SystemCallError) {
        let domain = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(
            domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError.last("socket") }
        var on: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, size)
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, size) }
        let bound = SocketAddress.withSockaddr(host: address.host, port: address.port, family: address.family) {
            bind(fd, $0, $1)
        }
        guard bound == 0 else {
            let error = SystemCallError.last("bind")
            Descriptor.close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SystemCallError.last("listen")
            Descriptor.close(fd)
            throw error
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let actual = SocketAddress.decode(&storage) else {
            let error = SystemCallError.last("getsockname")
            Descriptor.close(fd)
            throw error
        }
        self.fd = fd
        self.address = actual
    }

    deinit {
        assert(closed, "a listening socket must be closed by its owner")
    }

    public enum Accepted {
        case connection(fd: Int32, peer: SocketAddress?)
        case wouldBlock
        /// A transient failure (EMFILE, ECONNABORTED...): the caller logs and carries on.
        case failed(SystemCallError)
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec socket with TCP_NODELAY.
    public func accept() -> Accepted {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if client >= 0 {
                var on: Int32 = 1
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                return .connection(fd: client, peer: SocketAddress.decode(&storage))
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(SystemCallError(operation: "accept4", errno: code))
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        Descriptor.close(fd)
    }
}

/// Process-wide signal set-up.
public enum ProcessSignals {
    /// SIGPIPE must never kill a server whose client vanished mid-write.
    public static func ignoreSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Blocks `signals` in the calling thread and every thread it creates afterwards, so that
    /// they stay pending until `waitForSignals` takes them: none is lost, however early it
    /// arrives. Call before any thread is started.
    public static func block(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts a thread that takes the blocked `signals` one at a time with sigwait and calls
    /// `handler` for each, on that thread.
    public static func waitForSignals(_ signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread {
            var set = sigset_t()
            sigemptyset(&set)
            for s in signals { sigaddset(&set, s) }
            while true {
                var received: Int32 = 0
                if sigwait(&set, &received) == 0 { handler(received) }
            }
        }
        thread.name = "phigate-signals"
        thread.start()
    }
}
