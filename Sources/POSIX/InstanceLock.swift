#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive advisory lock on a file, held until the process exits: one server per data
/// directory.
///
/// Two servers on one directory would each run an audit writer against the same log, and
/// their chain heads would collide. `flock(2)` locks belong to the open file description, so
/// the kernel releases this one when the process ends, however it ends (kill -9 included):
/// a stale lock file never blocks a restart.
public final class InstanceLock: Sendable {
    private let descriptor: Int32

    /// Why the lock could not be taken: `held` when another process holds it.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var held: Bool
        public var message: String
        public var description: String { message }
    }

    /// Opens (creating owner-only) the file at `path` and locks it, or fails at once.
    public init(path: String) throws(Failure) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Failure(held: false, message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            throw Failure(
                held: code == EWOULDBLOCK,
                message: code == EWOULDBLOCK
                    ? "\(path) is locked by another running phigate"
                    : "cannot lock \(path): \(String(cString: strerror(code)))")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
