import Dispatch
import Synchronization

/// The receipt for one appended entry: wait on it to learn when the entry is durable.
///
/// The writer completes a ticket exactly once, after the group holding its entry has been
/// committed and synced to disk (success: the entry's `seq`) or has failed (the group's
/// error). Any number of threads may wait on the same ticket.
public final class AuditTicket: Sendable {
    private let outcome: Mutex<Result<Int64, AuditError>?>
    private let signal = DispatchSemaphore(value: 0)
    private let callbacks = Mutex<[@Sendable (Result<Int64, AuditError>) -> Void]>([])

    init() {
        outcome = Mutex(nil)
    }

    /// A ticket that failed before its entry was queued (queue full, writer closed).
    init(failed error: AuditError) {
        outcome = Mutex(.failure(error))
        signal.signal()
    }

    /// The outcome, or nil while the entry is still on its way to disk. Never blocks.
    public var result: Result<Int64, AuditError>? {
        outcome.withLock { $0 }
    }

    /// Blocks until the entry is durable or has failed, or until `timeout` has passed.
    ///
    /// Returns the entry's `seq`, the write error, or `.timeout`. A timeout does not withdraw
    /// the entry: it may still be committed later. A request that must fail closed treats a
    /// timeout like a failed write and discloses nothing. Do not call this on the writer's own
    /// callback queue (from `onCheckpoint` or `onHealthChange`).
    public func wait(timeout: Duration) -> Result<Int64, AuditError> {
        if let done = result {
            return done
        }
        let nanoseconds = Self.nanoseconds(timeout)
        guard signal.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else {
            // The writer may have finished just after the deadline; report what is known.
            return result
                ?? .failure(
                    AuditError(
                        .timeout, operation: "wait",
                        message: "the entry was not durable within the timeout"))
        }
        // Pass the wake-up on, so that every other waiter of this ticket wakes too.
        signal.signal()
        return result
            ?? .failure(
                AuditError(.timeout, operation: "wait", message: "woken without an outcome"))
    }

    /// Records the outcome and wakes the waiters. Called once, by the writer.
    /// Calls `callback` once with the outcome: at once if it is known, otherwise on the
    /// writer's thread when the entry's group commits or fails. The callback must not block;
    /// it is how a server waits for durability without holding a thread.
    public func onCompletion(_ callback: @escaping @Sendable (Result<Int64, AuditError>) -> Void) {
        let known: Result<Int64, AuditError>? = outcome.withLock { current in
            if current == nil { callbacks.withLock { $0.append(callback) } }
            return current
        }
        if let known { callback(known) }
    }

    func complete(_ value: Result<Int64, AuditError>) {
        let first = outcome.withLock { current -> Bool in
            guard current == nil else {
                return false
            }
            current = value
            return true
        }
        if first {
            signal.signal()
            let waiting = callbacks.withLock { list in
                defer { list.removeAll() }
                return list
            }
            for callback in waiting { callback(value) }
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else {
            return 0
        }
        let clamped = min(seconds, Int64(Int.max / 1_000_000_000) - 1)
        return Int(clamped) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }
}
