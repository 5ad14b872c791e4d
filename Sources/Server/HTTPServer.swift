import Foundation
import HTTP
import POSIX
import Support
import Synchronization

/// The HTTP/1.1 server: event loops over POSIX sockets, a router, and a worker queue.
///
/// Lifecycle: `init` binds (so the caller learns the real port before serving), `start` spawns
/// the loop threads, `shutdown` stops accepting and lets in-flight requests finish within the
/// grace period, `wait` returns when every loop has exited.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    public let metrics: ServerMetrics
    /// The address actually bound (port 0 resolved).
    public let boundAddress: SocketAddress
    private let loops: [EventLoop]
    private let logger: Logger
    private let stopped = DispatchGroup()
    private let state = Mutex(State.created)

    private enum State { case created, running, stopping, stopped }

    public init(
        configuration: ServerConfiguration, router: Router, metrics: ServerMetrics = ServerMetrics(),
        logger: Logger
    ) throws(SystemCallError) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let count = max(1, configuration.eventLoops)
        let first = try ListeningSocket(binding: configuration.address, reusePort: count > 1)
        var listeners = [first]
        for _ in 1..<count {
            listeners.append(try ListeningSocket(binding: first.address, reusePort: true))
        }
        boundAddress = first.address
        let pipeline = Pipeline(router: router, logger: logger)
        let workers = DispatchQueue(label: "phigate.workers", qos: .userInitiated, attributes: .concurrent)
        let budget = ConnectionBudget(configuration.maxConnections)
        var loops: [EventLoop] = []
        for (index, listener) in listeners.enumerated() {
            do {
                loops.append(
                    try EventLoop(
                        index: index, listener: listener, configuration: configuration, pipeline: pipeline,
                        metrics: metrics, logger: logger, workers: workers, connectionBudget: budget))
            } catch {
                for listener in listeners { listener.close() }
                throw error
            }
        }
        self.loops = loops
    }

    /// Starts one thread per event loop.
    public func start() {
        let shouldStart = state.withLock { state -> Bool in
            guard state == .created else { return false }
            state = .running
            return true
        }
        guard shouldStart else { return }
        for loop in loops {
            stopped.enter()
            let thread = Thread { [stopped] in
                loop.run()
                stopped.leave()
            }
            thread.name = "phigate-loop-\(loop.index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
        logger.info(
            "server.listening", ["http.address": .string(boundAddress.description), "loops": .int(loops.count)])
    }

    /// Stops accepting, closes idle connections, and gives in-flight requests the grace period.
    public func shutdown() {
        let first = state.withLock { state -> Bool? in
            switch state {
            case .running:
                state = .stopping
                return true
            case .stopping:
                return false
            case .created, .stopped:
                return nil
            }
        }
        guard let first else { return }
        let deadline: UInt64
        if first {
            logger.info("server.stopping", ["grace_seconds": .int(configuration.shutdownGraceSeconds)])
            deadline = MonotonicClock.nanoseconds() + UInt64(configuration.shutdownGraceSeconds) * 1_000_000_000
        } else {
            // Asked again while draining (a second Ctrl-C): the operator will not wait out the grace.
            logger.notice("server.stopping_now")
            deadline = MonotonicClock.nanoseconds()
        }
        for loop in loops { loop.submit(.beginShutdown(deadline: deadline)) }
    }

    /// Blocks until every loop has exited after `shutdown`.
    public func wait() {
        stopped.wait()
        state.withLock { $0 = .stopped }
    }
}
