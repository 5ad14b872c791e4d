#if canImport(Glibc)
    import Glibc
#endif

/// An outgoing TCP connection: non-blocking and close-on-exec, with every wait bounded by a
/// timeout. Used by blocking clients (webhook delivery) that run on their own threads.
///
/// The owner must call `close()`; `deinit` asserts that it did.
public final class ClientSocket {
    /// What `wait(for:timeoutMilliseconds:)` waits for.
    public enum Readiness: Sendable {
        case readable
        case writable
    }

    public let fd: Int32
    private var closed = false

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        assert(closed, "a client socket must be closed by its owner")
    }

    /// The addresses of `host`: the address itself when it is a numeric IPv4 or IPv6 literal,
    /// otherwise the stream addresses getaddrinfo finds, in its order. Empty when the name
    /// does not resolve. The lookup blocks and has no timeout of its own.
    public static func resolve(host: String, port: UInt16) -> [SocketAddress] {
        for family in [SocketAddress.Family.ipv4, .ipv6] {
            if SocketAddress.withSockaddr(host: host, port: port, family: family, { _, _ in true })
                != nil
            {
                return [SocketAddress(host: host, port: port, family: family)]
            }
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0 else {
            return []
        }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var entry = list
        while let info = entry?.pointee {
            entry = info.ai_next
            guard let raw = info.ai_addr,
                Int(info.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size
            else { continue }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) {
                $0.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: Int(info.ai_addrlen)))
            }
            if let address = SocketAddress.decode(&storage), !found.contains(address) {
                found.append(address)
            }
        }
        return found
    }

    /// Connects to `address` within `timeoutMilliseconds`.
    ///
    /// Throws the failing call's error: `connect` with ECONNREFUSED for a closed port, with
    /// ETIMEDOUT when the timeout passed first, or another errno (unreachable network...).
    public static func connect(
        to address: SocketAddress, timeoutMilliseconds: Int
    ) throws(SystemCallError) -> ClientSocket {
        let domain = address.family == .ipv4 ? AF_INET : AF_INET6
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(domain, flags, 0)
        guard fd >= 0 else { throw SystemCallError.last("socket") }
        let socket = ClientSocket(fd: fd)
        let started = SocketAddress.withSockaddr(
            host: address.host, port: address.port, family: address.family
        ) { Glibc.connect(fd, $0, $1) == 0 ? 0 : Glibc.errno }
        switch started {
        case 0:
            break
        case EINPROGRESS, EINTR:
            // The handshake goes on in the kernel; its result is SO_ERROR once writable.
            do throws(SystemCallError) {
                guard try socket.wait(for: .writable, timeoutMilliseconds: timeoutMilliseconds)
                else {
                    throw SystemCallError(operation: "connect", errno: ETIMEDOUT)
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else {
                    throw SystemCallError.last("getsockopt")
                }
                guard code == 0 else { throw SystemCallError(operation: "connect", errno: code) }
            } catch {
                socket.close()
                throw error
            }
        default:
            socket.close()
            throw SystemCallError(operation: "connect", errno: started ?? EINVAL)
        }
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return socket
    }

    /// Waits until the socket is ready or `timeoutMilliseconds` pass; returns false on
    /// timeout. An error or hang-up counts as ready: the next read or write reports it.
    public func wait(for readiness: Readiness, timeoutMilliseconds: Int) throws(SystemCallError)
        -> Bool
    {
        var entry = pollfd(
            fd: fd, events: Int16(readiness == .readable ? POLLIN : POLLOUT), revents: 0)
        let timeout = Int32(clamping: max(0, timeoutMilliseconds))
        while true {
            let ready = poll(&entry, 1, timeout)
            if ready < 0 && Glibc.errno == EINTR { continue }
            guard ready >= 0 else { throw SystemCallError.last("poll") }
            return ready > 0
        }
    }

    /// Reads what is available (see `Descriptor.read`).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        Descriptor.read(fd, into: buffer)
    }

    /// Writes what fits now (see `Descriptor.send`).
    public func send(_ buffer: UnsafeRawBufferPointer) -> IOResult {
        Descriptor.send(fd, buffer)
    }

    /// Closes the socket; a second call does nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        Descriptor.close(fd)
    }
}

extension SystemCallError {
    /// The peer's port refused the connection.
    public var isConnectionRefused: Bool { errno == ECONNREFUSED }

    /// A connect that did not finish in time.
    public var isTimedOut: Bool { errno == ETIMEDOUT }

    /// No route to the peer's network or host.
    public var isUnreachable: Bool { errno == ENETUNREACH || errno == EHOSTUNREACH }
}
