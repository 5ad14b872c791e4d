import Dispatch
import Store
import Synchronization

/// Copies the audit database's write-ahead log back into the database file on a thread and
/// connection of its own, so that the writer never waits for it.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold: with
/// `synchronous=FULL` that commit copies megabytes of pages and syncs the main file before
/// its group's tickets complete, a stall of several milliseconds that every request behind
/// it waits out. The writer's connection turns the automatic checkpoint off and asks this
/// checkpointer instead. A PASSIVE checkpoint never blocks the writer or readers.
///
/// SQLite restarts the log from its beginning only when a write transaction starts with
/// every frame copied, which a checkpoint racing a busy writer never achieves: the log
/// would grow without end. So when a background checkpoint has finished, the writer runs a
/// PASSIVE checkpoint itself before its next group; it copies only the frames appended
/// while the background one ran (a short pause, not the full copy), and the log restarts.
///
/// When a checkpoint fails (the file cannot be opened or written), `isFailing` turns true;
/// the writer then gives the job back to SQLite's automatic checkpoint, which is slower for
/// requests but never lets the log grow without bound.
final class WALCheckpointer: Sendable {
    private struct State {
        var scheduled = false
        var completed = 0
        var failed = false
        var finishedUntaken = false
    }

    /// The connection, opened on first use; only touched on `queue`, which is serial.
    private final class Connection: @unchecked Sendable {
        var database: Database?
        var closed = false
    }

    private let path: String
    private let queue = DispatchQueue(label: "phigate.audit.wal-checkpoint", qos: .utility)
    private let state = Mutex(State())
    private let connection = Connection()

    init(path: String) {
        self.path = path
    }

    /// Checkpoints that ran to the end without an error.
    var completed: Int {
        state.withLock { $0.completed }
    }

    /// True once a checkpoint has failed.
    var isFailing: Bool {
        state.withLock { $0.failed }
    }

    /// True once after each checkpoint that ran to the end: the writer then copies the few
    /// frames appended meanwhile itself (see the type's notes).
    func takeFinished() -> Bool {
        state.withLock { state in
            defer { state.finishedUntaken = false }
            return state.finishedUntaken
        }
    }

    /// Asks for a checkpoint soon. Requests made while one is waiting to run are one request.
    func request() {
        let first = state.withLock { state -> Bool in
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if first {
            queue.async { self.run() }
        }
    }

    /// Waits for a running checkpoint and closes the connection; later requests do nothing.
    func close() {
        queue.sync {
            connection.closed = true
            connection.database = nil
        }
    }

    private func run() {
        dispatchPrecondition(condition: .onQueue(queue))
        state.withLock { $0.scheduled = false }
        guard !connection.closed else {
            return
        }
        do {
            let database = try connection.database ?? Database(path: path, synchronous: .full)
            connection.database = database
            try database.execute("PRAGMA wal_checkpoint(PASSIVE)")
            state.withLock { state in
                state.completed += 1
                state.finishedUntaken = true
            }
        } catch {
            // The writer reads `isFailing` and falls back to SQLite's own checkpoints.
            connection.database = nil
            state.withLock { $0.failed = true }
        }
    }

    /// Marks the checkpointer failed, as a checkpoint that could not write would.
    func failForTesting() {
        state.withLock { $0.failed = true }
    }
}
