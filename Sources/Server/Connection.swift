import HTTP
import TLS

/// One client connection, owned by exactly one event loop and touched only on its thread.
///
/// The fields describe where the connection is in its life; `EventLoop` drives the transitions.
final class Connection {
    /// What the connection is waiting for, which decides the deadline that applies.
    enum Phase: Equatable {
        /// Waiting for (the rest of) a request head: the header timeout runs from `phaseStarted`.
        case readingHead
        /// Waiting for the rest of a body: the body timeout runs.
        case readingBody
        /// Keep-alive between requests, nothing buffered: the idle timeout runs.
        case idle
        /// A handler is running on a worker; reads are paused until its response comes back.
        case awaitingResponse
        /// The final response was sent and the write side shut; reading and discarding until the
        /// peer closes, so that unread input does not turn our last bytes into a reset.
        case lingering
    }

    let id: UInt64
    let fd: Int32
    let peer: String
    /// The peer's address without the port: the key of the per-client connection cap.
    let host: String
    var parser: HTTPRequestParser
    var phase: Phase = .readingHead
    var phaseStarted: UInt64
    /// Any byte of the current request seen (decides 408 versus a quiet close on timeout).
    var sawRequestBytes = false
    /// Bytes queued for the socket; `outputSent` of them are already written.
    var output: [UInt8] = []
    var outputSent = 0
    /// When output last made progress, for the stalled-reader deadline.
    var lastWrite: UInt64
    /// Input received while reads were paused, processed when the connection resumes.
    var stashedInput: [UInt8] = []
    /// Close once `output` drains: an error, Connection: close, HTTP/1.0 or shutdown.
    var closeAfterFlush = false
    /// The peer will send no more bytes.
    var peerClosed = false
    /// The socket may hold bytes not read yet: reading last stopped because input was paused
    /// (or the connection is new), not because a read found the socket drained. With
    /// edge-triggered readiness, bytes that arrive after a draining read raise a new edge, so
    /// resuming need not try a read that can only say "would block".
    var mayHaveUnreadInput = true
    /// The keep-alive decision for the request being answered.
    var keepAlive = true
    /// A streamed response in progress; input stays paused until it ends.
    var streaming: Streaming?

    struct Streaming {
        let body: any ResponseBodyStream
        let context: EventLoop.ResponseContext
        let status: Int
        /// Chunked framing (HTTP/1.1) or a close-delimited body (HTTP/1.0).
        let chunked: Bool
        /// A worker is producing the next piece.
        var pulling = false
    }

    init(id: UInt64, fd: Int32, peer: String, host: String, limits: HTTPLimits, now: UInt64) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.host = host
        self.parser = HTTPRequestParser(limits: limits)
        self.phaseStarted = now
        self.lastWrite = now
    }

    /// The TLS session when the listener serves HTTPS; `output` then holds plaintext that is
    /// sealed into `wire` just before sending.
    var tls: TLSConnection?
    var wire: [UInt8] = []
    var wireSent = 0

    var hasPendingOutput: Bool { outputSent < output.count || wireSent < wire.count }

    /// Whether the loop may parse more input now: not while a handler runs, not after the final
    /// response, and not while the client leaves a large amount of output unread.
    var acceptsInput: Bool {
        phase != .awaitingResponse && phase != .lingering && !closeAfterFlush
            && output.count - outputSent + wire.count - wireSent < EventLoop.outputHighWater
    }

    func enter(_ next: Phase, at now: UInt64) {
        if phase != next {
            phase = next
            phaseStarted = now
        }
    }

    /// The phase that follows a parsing step, from the parser's own state.
    func settlePhase(at now: UInt64) {
        guard phase != .awaitingResponse, phase != .lingering else { return }
        if parser.isReadingBody {
            enter(.readingBody, at: now)
        } else if parser.isIdle {
            if phase != .idle { sawRequestBytes = false }
            enter(.idle, at: now)
        } else {
            sawRequestBytes = true
            enter(.readingHead, at: now)
        }
    }
}
