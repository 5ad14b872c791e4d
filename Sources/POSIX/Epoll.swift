#if canImport(Glibc)
    import Glibc
#endif
internal import CPOSIX

/// Owns one epoll instance. Used by exactly one event-loop thread.
public final class Epoll {
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let readable = Events(rawValue: EPOLLIN.rawValue)
        public static let writable = Events(rawValue: EPOLLOUT.rawValue)
        public static let readHangUp = Events(rawValue: EPOLLRDHUP.rawValue)
        public static let hangUp = Events(rawValue: EPOLLHUP.rawValue)
        public static let error = Events(rawValue: EPOLLERR.rawValue)
        public static let edgeTriggered = Events(rawValue: EPOLLET.rawValue)
    }

    public let fd: Int32
    private var buffer: UnsafeMutablePointer<epoll_event>
    private let capacity: Int

    public init(capacity: Int = 256) throws(SystemCallError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError.last("epoll_create1") }
        self.fd = fd
        self.capacity = capacity
        self.buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        Descriptor.close(fd)
    }

    /// Registers `descriptor`; `token` comes back with each of its events.
    public func add(_ descriptor: Int32, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_ADD, descriptor, events, token)
    }

    public func modify(_ descriptor: Int32, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_MOD, descriptor, events, token)
    }

    public func remove(_ descriptor: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, &event)
    }

    private func control(_ op: Int32, _ descriptor: Int32, _ events: Events, _ token: UInt64) throws(SystemCallError) {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = token
        guard epoll_ctl(fd, op, descriptor, &event) == 0 else { throw SystemCallError.last("epoll_ctl") }
    }

    /// Waits up to `timeoutMilliseconds` (-1 forever) and calls `body` for each ready descriptor.
    /// An interrupted wait (EINTR) returns with no events.
    public func wait(timeoutMilliseconds: Int32, _ body: (_ token: UInt64, _ events: Events) -> Void)
        throws(SystemCallError)
    {
        let n = epoll_wait(fd, buffer, Int32(capacity), timeoutMilliseconds)
        if n < 0 {
            if errno == EINTR { return }
            throw SystemCallError.last("epoll_wait")
        }
        for i in 0..<Int(n) {
            body(buffer[i].data.u64, Events(rawValue: buffer[i].events))
        }
    }
}

/// An eventfd used as a doorbell: any thread rings it, the loop thread drains it.
public final class EventFD: Sendable {
    public let fd: Int32

    public init() throws(SystemCallError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError.last("eventfd") }
        self.fd = fd
    }

    deinit { Descriptor.close(fd) }

    /// Wakes the waiter. Safe from any thread; a full counter (never in practice) is ignored.
    public func ring() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(fd, $0.baseAddress, 8) }
    }

    /// Resets the counter after a wake-up.
    public func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { Glibc.read(fd, $0.baseAddress, 8) }
    }
}
