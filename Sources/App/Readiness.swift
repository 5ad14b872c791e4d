import Synchronization

/// Whether the gateway can serve PHI safely right now, as named checks that subsystems flip.
///
/// /readyz answers 503 while any check fails (the audit log cannot be written, a database is
/// unavailable) or while the server is shutting down, so a load balancer stops sending traffic.
public final class Readiness: Sendable {
    private let failing = Mutex<Set<String>>([])

    public init() {}

    public func set(_ check: String, ready: Bool) {
        failing.withLock { set in
            if ready { set.remove(check) } else { set.insert(check) }
        }
    }

    /// The names of failing checks, sorted; empty when ready.
    public var failingChecks: [String] { failing.withLock { $0.sorted() } }
}
