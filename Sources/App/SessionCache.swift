import Auth
import Support
import Synchronization

/// Recently validated bearer tokens, so that a burst of requests on one session does not read
/// the session table for each.
///
/// An entry lives for `lifetimeMilliseconds` (one second) and never beyond the session's own
/// expiry. Logout through this process evicts at once; a disable or logout made by another
/// process (the command line) takes effect within the lifetime. Bounded: when full, it is
/// emptied rather than grown.
final class SessionCache: Sendable {
    private struct Entry {
        var session: Session
        var account: Account
        var binding: CertificateBindings.Binding?
        var cachedAt: Int64
    }

    let lifetimeMilliseconds: Int64
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])
    private let clock = WallClock()

    init(lifetimeMilliseconds: Int64 = 1000, capacity: Int = 10_000) {
        self.lifetimeMilliseconds = lifetimeMilliseconds
        self.capacity = capacity
    }

    /// The cached session for `token`, if fresh and still valid now.
    func lookup(_ token: String) -> (session: Session, account: Account, binding: CertificateBindings.Binding?)? {
        let now = clock.unixMilliseconds()
        return entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard now - entry.cachedAt < lifetimeMilliseconds, entry.session.isValid(at: now / 1000) else {
                entries.removeValue(forKey: token)
                return nil
            }
            return (entry.session, entry.account, entry.binding)
        }
    }

    func store(_ token: String, session: Session, account: Account, binding: CertificateBindings.Binding?) {
        let now = clock.unixMilliseconds()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = Entry(session: session, account: account, binding: binding, cachedAt: now)
        }
    }

    func evict(_ token: String) {
        _ = entries.withLock { $0.removeValue(forKey: token) }
    }
}
