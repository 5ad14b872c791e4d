import Dispatch
import Synchronization

/// The receipt for one appended entry: wait on it to learn when the entry is durable.
///
/// The writer completes a ticket exactly once, after the group holding its entry has been
/// committed and synced to disk (success: the entry's `seq`) or has failed (the group's
/// error). Any number of threads may wait on the same ticket.
///
/// Most tickets are never waited on by a thread: a server registers a completion callback
/// instead. So the semaphore that `wait` sleeps on is made only by the first waiter.
public final class AuditTicket: Sendable {
    private typealias Callback = @Sendable (Result<Int64, AuditError>) -> Void

    private struct State {
        var outcome: Result<Int64, AuditError>?
        var callbacks: [Callback] = []
        var signal: DispatchSemaphore?
    }

    private let state: Mutex<State>

    init() {
        state = Mutex(State())
    }

    /// A ticket that failed before its entry was queued (queue full, writer closed).
    init(failed error: AuditError) {
        state = Mutex(State(outcome: .failure(error)))
    }

    /// The outcome, or nil while the entry is still on its way to disk. Never blocks.
    public var result: Result<Int64, AuditError>? {
        state.withLock { $0.outcome }
    }

    /// Blocks until the entry is durable or has failed, or until `timeout` has passed.
    ///
    /// Returns the entry's `seq`, the write error, or `.timeout`. A timeout does not withdraw
    /// the entry: it may still be committed later. A request that must fail closed treats a
    /// timeout like a failed write and discloses nothing. Do not call this on the writer's own
    /// callback queue (from `onCheckpoint` or `onHealthChange`).
    public func wait(timeout: Duration) -> Result<Int64, AuditError> {
        let waiting = state.withLock { state -> Waiting in
            if let outcome = state.outcome {
                return .done(outcome)
            }
            let signal = state.signal ?? DispatchSemaphore(value: 0)
            state.signal = signal
            return .sleep(signal)
        }
        let signal: DispatchSemaphore
        switch waiting {
        case .done(let outcome):
            return outcome
        case .sleep(let semaphore):
            signal = semaphore
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

    private enum Waiting {
        case done(Result<Int64, AuditError>)
        case sleep(DispatchSemaphore)
    }

    /// Calls `callback` once with the outcome: at once if it is known, otherwise on the
    /// writer's thread when the entry's group commits or fails. The callback must not block;
    /// it is how a server waits for durability without holding a thread.
    public func onCompletion(_ callback: @escaping @Sendable (Result<Int64, AuditError>) -> Void) {
        let known = state.withLock { state -> Result<Int64, AuditError>? in
            if state.outcome == nil { state.callbacks.append(callback) }
            return state.outcome
        }
        if let known { callback(known) }
    }

    /// Records the outcome and wakes the waiters. Called once, by the writer.
    func complete(_ value: Result<Int64, AuditError>) {
        let woken = state.withLock { state -> (DispatchSemaphore?, [Callback])? in
            guard state.outcome == nil else {
                return nil
            }
            state.outcome = value
            defer { state.callbacks.removeAll() }
            return (state.signal, state.callbacks)
        }
        guard let (signal, callbacks) = woken else {
            return
        }
        signal?.signal()
        for callback in callbacks { callback(value) }
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
