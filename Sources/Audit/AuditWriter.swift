import Dispatch
import Store
public import Support
import Synchronization

/// The single writer of the audit log: entries go in from any thread, and come out durable,
/// chained and periodically checkpointed.
///
/// `append` puts the entry on a bounded queue and returns a ticket at once. A serial queue
/// owns the database connection and commits in groups: it takes everything waiting (up to
/// `maxGroupSize`), writes it in one transaction with one fsync, then completes the tickets
/// of the whole group. While a group is being synced the next one accumulates, so throughput
/// grows with concurrency instead of being one fsync per request.
///
/// Failure is closed: when the database refuses a group (disk full, read-only file, I/O
/// error) every ticket of that group fails with `.writeFailed`, nothing of the group is
/// kept, the chain head does not move, and `isHealthy` turns false (`onHealthChange` fires
/// with the error). The next group tries again, and while unhealthy a timer probes the file,
/// so health comes back on its own when the disk is writable again. A full queue is reported
/// the same way: the first refused append fires `.queueFull`, and `.accepting` follows once
/// the writer has brought the queue down to half its capacity.
///
/// Callbacks (`onHealthChange`, `onCheckpoint`) run in order on a private queue, never on the
/// writer's; they may append, but must not wait on a ticket for long.
public final class AuditWriter: Sendable {
    /// A change in what the writer can do, for readiness and the operator's log.
    public enum HealthChange: Sendable, Equatable {
        /// A write failed; appends fail until one succeeds. Carries the failure.
        case writeFailed(AuditError)
        /// Writes succeed again.
        case writable
        /// An append was refused because `queueCapacity` entries were waiting.
        case queueFull
        /// The queue is down to half its capacity again.
        case accepting
        /// Entries have waited `stallThreshold` without any commit finishing: the writer is
        /// stuck in a write (a disk that does not answer, a lock held by another process).
        case stalled
        /// A commit finished after `.stalled`.
        case moving
    }

    /// Entries waiting for the writer, with their tickets.
    private struct Pending: Sendable {
        let entry: AuditEntry
        let ticket: AuditTicket
    }

    private struct QueueState: Sendable {
        var items: [Pending] = []
        var drainScheduled = false
        var closed = false
        /// False from a refusal for a full queue until the queue is half empty again. Changed
        /// and reported under the lock, so that reports arrive in the order of the changes.
        var accepting = true
    }

    /// Makes the queue-confined log file storable in this Sendable class.
    private final class Confined: @unchecked Sendable {
        // Only touched on `AuditWriter.queue`, which is serial; `dispatchPrecondition` checks.
        // The timers are created here and cancelled from any thread, which Dispatch allows.
        let file: AuditLogFile
        let timer: any DispatchSourceTimer
        var lastCheckpointTime = MonotonicClock.nanoseconds()

        /// Watches `AuditWriter.progress` from its own queue, which a stuck write cannot block.
        let watchdog: any DispatchSourceTimer

        init(_ file: AuditLogFile, timer: any DispatchSourceTimer, watchdog: any DispatchSourceTimer) {
            self.file = file
            self.timer = timer
            self.watchdog = watchdog
        }
    }

    public let configuration: AuditWriterConfiguration
    /// Where the stored index stopped tiling the log when the writer opened it (its block rows
    /// were edited), or nil. Queries do not trust the blocks from there on and read those
    /// entries one by one, so nothing is missed, only slower; the owner records the finding
    /// in the log and calls ``rebuildIndex()``.
    public let indexFaultAtOpen: AuditIndexFault?
    private let queue = DispatchQueue(label: "phigate.audit.writer", qos: .userInitiated)
    private let callbackQueue = DispatchQueue(label: "phigate.audit.callbacks")
    private let confined: Confined
    private let state = Mutex(QueueState())
    private let healthy = Atomic<Bool>(true)
    private let counters = Mutex(AuditWriterStatistics())
    private let onHealthChange: @Sendable (HealthChange) -> Void
    private let onCheckpoint: @Sendable (Checkpoint) -> Void
    /// When the writer last made progress (a commit ended, or work arrived at an idle writer),
    /// and whether `.stalled` was reported since; under one lock so that reports keep order.
    private let progress = Mutex((at: MonotonicClock.nanoseconds(), stalled: false))

    /// Opens the log at `configuration.path` and starts the writer.
    ///
    /// Throws `.storage` when the database cannot be opened or migrated.
    public init(
        configuration: AuditWriterConfiguration, signingKey: AuditSigningKey,
        clock: WallClock = WallClock(),
        onHealthChange: @escaping @Sendable (HealthChange) -> Void = { _ in },
        onCheckpoint: @escaping @Sendable (Checkpoint) -> Void = { _ in }
    ) throws(AuditError) {
        precondition(configuration.maxGroupSize >= 1, "a group holds at least one entry")
        precondition(configuration.queueCapacity >= 1, "the queue holds at least one entry")
        self.configuration = configuration
        self.onHealthChange = onHealthChange
        self.onCheckpoint = onCheckpoint
        let file = try AuditLogFile(
            path: configuration.path, signingKey: signingKey,
            origin: configuration.origin ?? signingKey.keyName,
            checkpointEvery: configuration.checkpointEvery,
            indexBatchSize: configuration.indexBatchSize, clock: clock)
        indexFaultAtOpen = file.indexFaultAtOpen
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let watchdog = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "phigate.audit.watchdog"))
        confined = Confined(file, timer: timer, watchdog: watchdog)
        let tick = min(configuration.checkpointInterval, configuration.recoveryProbeInterval)
        let interval = DispatchTimeInterval.nanoseconds(Self.nanoseconds(tick))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(50))
        timer.setEventHandler { [weak self] in
            self?.tick()
        }
        let look = DispatchTimeInterval.nanoseconds(max(Self.nanoseconds(configuration.stallThreshold) / 4, 1_000_000))
        watchdog.schedule(deadline: .now() + look, repeating: look, leeway: .milliseconds(10))
        watchdog.setEventHandler { [weak self] in
            self?.watchForStall()
        }
        timer.resume()
        watchdog.resume()
    }

    deinit {
        confined.timer.cancel()
        confined.watchdog.cancel()
    }

    /// True while the last write to the audit database succeeded. Readiness follows it.
    public var isHealthy: Bool {
        healthy.load(ordering: .acquiring)
    }

    /// False from an append refused for a full queue until the queue is half empty again.
    public var isAccepting: Bool {
        state.withLock { $0.accepting }
    }

    /// A snapshot of the counters.
    public var statistics: AuditWriterStatistics {
        var snapshot = counters.withLock { $0 }
        snapshot.queueDepth = state.withLock { $0.items.count }
        return snapshot
    }

    /// The seq and size of the newest durable entry and checkpoint, read on the writer queue.
    public var head: (seq: Int64, checkpointSize: Int64) {
        queue.sync { (confined.file.headSeq, confined.file.checkpointSize) }
    }

    /// Queues `entry` (its `seq` is ignored and assigned by the writer) and returns at once.
    ///
    /// The ticket fails immediately with `.queueFull` when `queueCapacity` entries are already
    /// waiting, `.closed` after `close()`, and `.invalidEntry` when an integer field cannot be
    /// encoded exactly.
    public func append(_ entry: AuditEntry) -> AuditTicket {
        do {
            try AuditCanonicalEncoder.validate(entry)
        } catch {
            return reject(error)
        }
        let ticket = AuditTicket()
        let capacity = configuration.queueCapacity
        let admission = state.withLock { state -> Result<Bool, AuditError> in
            guard !state.closed else {
                return .failure(
                    AuditError(.closed, operation: "append", message: "the audit writer is closed"))
            }
            guard state.items.count < capacity else {
                if state.accepting {
                    state.accepting = false
                    report(.queueFull)
                }
                return .failure(
                    AuditError(.queueFull, operation: "append", message: "the audit queue is full"))
            }
            state.items.append(Pending(entry: entry, ticket: ticket))
            defer { state.drainScheduled = true }
            return .success(!state.drainScheduled)
        }
        switch admission {
        case .failure(let error):
            return reject(error)
        case .success(let mustSchedule):
            if mustSchedule {
                // An idle writer has work again: its wait counts from now, not from its last commit.
                progress.withLock { $0.at = MonotonicClock.nanoseconds() }
                queue.async { self.drainOneGroup() }
            }
            return ticket
        }
    }

    /// Appends `entry` and waits until it is durable: the form the request path uses before
    /// sending PHI. Returns the entry's seq or the reason it is not durable.
    public func appendAndWait(_ entry: AuditEntry, timeout: Duration) -> Result<Int64, AuditError> {
        append(entry).wait(timeout: timeout)
    }

    /// Stops accepting entries, commits everything queued, signs a final checkpoint when the
    /// head moved since the last one, and closes the database.
    ///
    /// Returns after the last callbacks have run. Throws the error of the final checkpoint,
    /// if it could not be written. Calling it again does nothing. Must not be called from a
    /// writer callback.
    public func close() throws(AuditError) {
        dispatchPrecondition(condition: .notOnQueue(callbackQueue))
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else {
            return
        }
        let outcome: Result<Void, AuditError> = queue.sync {
            while commitNextGroup() {}
            confined.timer.cancel()
            defer { confined.file.close() }
            do throws(AuditError) {
                try confined.file.indexTail(all: true)
                try checkpointNow()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        confined.watchdog.cancel()
        callbackQueue.sync {}
        try outcome.get()
    }

    /// Drops the query index and writes it again from the log, on the writer's queue: group
    /// commits wait meanwhile (a few seconds per 100,000 entries), so call it before serving.
    ///
    /// Record why first (an entry saying the index is being rebuilt and what was wrong with
    /// it): the repair removes what ``AuditVerifier`` would have reported. Throws
    /// `.writeFailed` when the index could not be written; the old index then stays.
    public func rebuildIndex() throws(AuditError) {
        dispatchPrecondition(condition: .notOnQueue(callbackQueue))
        let outcome: Result<Void, AuditError> = queue.sync {
            do throws(AuditError) {
                try confined.file.rebuildIndex()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }

    // MARK: - Writer queue

    private func reject(_ error: AuditError) -> AuditTicket {
        counters.withLock { $0.rejectedEntries += 1 }
        return AuditTicket(failed: error)
    }

    private func drainOneGroup() {
        if commitNextGroup() {
            let more = state.withLock { state -> Bool in
                if state.items.isEmpty {
                    state.drainScheduled = false
                    return false
                }
                return true
            }
            if more {
                queue.async { self.drainOneGroup() }
            }
        }
    }

    /// Takes up to `maxGroupSize` waiting entries and commits them. False when none waited.
    private func commitNextGroup() -> Bool {
        dispatchPrecondition(condition: .onQueue(queue))
        let limit = configuration.maxGroupSize
        let roomAgain = configuration.queueCapacity / 2
        let group = state.withLock { state -> [Pending] in
            guard !state.items.isEmpty else {
                state.drainScheduled = false
                return []
            }
            let taken = Array(state.items.prefix(limit))
            state.items.removeFirst(taken.count)
            if !state.accepting, state.items.count <= roomAgain {
                state.accepting = true
                report(.accepting)
            }
            return taken
        }
        guard !group.isEmpty else {
            return false
        }
        commit(group)
        return true
    }

    private func commit(_ group: [Pending]) {
        defer { madeProgress() }
        do {
            let result = try confined.file.commit(group.map(\.entry))
            // Counters and health first, so that a caller woken by its ticket sees them.
            counters.withLock { counters in
                counters.entriesAppended += Int64(group.count)
                counters.groupsCommitted += 1
                counters.largestGroup = max(counters.largestGroup, group.count)
                counters.checkpointsSigned += Int64(result.checkpoints.count)
            }
            setHealthy(nil)
            for (offset, pending) in group.enumerated() {
                pending.ticket.complete(.success(result.firstSeq + Int64(offset)))
            }
            if !result.checkpoints.isEmpty {
                confined.lastCheckpointTime = MonotonicClock.nanoseconds()
            }
            for checkpoint in result.checkpoints {
                publish(checkpoint)
            }
        } catch {
            counters.withLock { counters in
                counters.failedGroups += 1
                counters.failedEntries += Int64(group.count)
            }
            setHealthy(error)
            for pending in group {
                pending.ticket.complete(.failure(error))
            }
        }
    }

    /// The timer: probe while unhealthy, index what waits, and sign a checkpoint when one is
    /// due by time.
    private func tick() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard confined.file.isOpen else {
            return
        }
        if !isHealthy {
            do {
                try confined.file.probe()
                setHealthy(nil)
            } catch {
                return
            }
        }
        do {
            try confined.file.indexTail()
        } catch {
            // The index is derived data and readers scan what it lacks; the failure has
            // marked the head stale, and the next commit or tick tries again.
        }
        let elapsed = MonotonicClock.nanoseconds() &- confined.lastCheckpointTime
        if elapsed >= UInt64(Self.nanoseconds(configuration.checkpointInterval)) {
            // A failure already turned health false; the next tick probes and tries again.
            try? checkpointNow()
        }
    }

    /// Signs a checkpoint of the head if it moved; failures turn health false and are thrown.
    private func checkpointNow() throws(AuditError) {
        dispatchPrecondition(condition: .onQueue(queue))
        do {
            guard let checkpoint = try confined.file.checkpointHead() else {
                return
            }
            confined.lastCheckpointTime = MonotonicClock.nanoseconds()
            counters.withLock { $0.checkpointsSigned += 1 }
            setHealthy(nil)
            publish(checkpoint)
        } catch {
            setHealthy(error)
            throw error
        }
    }

    /// A commit ended, well or not: the writer is not stuck.
    private func madeProgress() {
        progress.withLock { progress in
            progress.at = MonotonicClock.nanoseconds()
            if progress.stalled {
                progress.stalled = false
                report(.moving)
            }
        }
    }

    /// Reports `.stalled` once when entries are waiting (a drain is scheduled or running) and
    /// no commit has ended for `stallThreshold`.
    private func watchForStall() {
        let busy = state.withLock { $0.drainScheduled && !$0.closed }
        let threshold = UInt64(Self.nanoseconds(configuration.stallThreshold))
        progress.withLock { progress in
            guard busy, !progress.stalled, MonotonicClock.nanoseconds() &- progress.at >= threshold else {
                return
            }
            progress.stalled = true
            report(.stalled)
        }
    }

    /// Healthy when `failure` is nil; reports a change, with the failure that caused it.
    private func setHealthy(_ failure: AuditError?) {
        let previous = healthy.exchange(failure == nil, ordering: .acquiringAndReleasing)
        guard previous != (failure == nil) else {
            return
        }
        report(failure.map { .writeFailed($0) } ?? .writable)
    }

    private func report(_ change: HealthChange) {
        let callback = onHealthChange
        callbackQueue.async { callback(change) }
    }

    private func publish(_ checkpoint: Checkpoint) {
        let callback = onCheckpoint
        callbackQueue.async { callback(checkpoint) }
    }

    private static func nanoseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let whole = min(max(seconds, 0), Int64(Int.max / 1_000_000_000) - 1)
        return max(1, Int(whole) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }
}

extension AuditWriter {
    /// Runs `body` with the writer's connection on the writer queue. Tests use it to make the
    /// database refuse writes (a page limit) without touching the file system.
    func withDatabaseForTesting<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.sync { try confined.file.withDatabase(body) }
    }

    /// Holds the writer queue so that appends pile up (for queue-full tests).
    func suspendForTesting() {
        queue.suspend()
    }

    func resumeForTesting() {
        queue.resume()
    }
}
