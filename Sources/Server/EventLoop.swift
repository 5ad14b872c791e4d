import Foundation
import HTTP
import POSIX
import Support
import TLS
import Synchronization

/// One thread, one epoll instance, one listener and the connections it accepted.
///
/// Everything but the mailbox is touched only on the loop's own thread. Requests whose route
/// runs on the loop are answered inline — one read and one write per request — and the rest go
/// to a worker queue, whose result comes back through the mailbox and the eventfd doorbell.
/// Edge-triggered readiness is registered once per connection and never re-armed.
///
/// `@unchecked Sendable`: the mailbox is guarded by its mutex; all other state is confined to
/// the loop thread (see `run`), and other threads reach it only through `submit`.
final class EventLoop: @unchecked Sendable {
    /// Pause parsing a connection once this much output is waiting for a slow reader.
    static let outputHighWater = 256 * 1024
    static let listenerToken: UInt64 = 0
    static let doorbellToken: UInt64 = 1
    static let lingerNanoseconds: UInt64 = 2_000_000_000
    static let sweepNanoseconds: UInt64 = 250_000_000
    static let readBufferSize = 64 * 1024

    enum Job: Sendable {
        case deliver(connection: UInt64, response: Response, request: ResponseContext)
        /// The next piece of a streamed body; nil at its end; `failed` when the stream threw.
        case streamPiece(connection: UInt64, bytes: [UInt8]?, failed: Bool)
        case beginShutdown(deadline: UInt64)
    }

    /// What the loop needs to finish a response that a worker produced.
    struct ResponseContext: Sendable {
        var requestID: String
        var method: String
        var route: String
        var keepAlive: Bool
        var started: UInt64
        /// An HTTP/1.0 client keeps the connection only when the response says so.
        var http10 = false
    }

    let index: Int
    let listener: ListeningSocket
    let configuration: ServerConfiguration
    let pipeline: Pipeline
    let metrics: ServerMetrics
    let logger: Logger
    let workers: DispatchQueue
    let connectionBudget: ConnectionBudget

    let epoll: Epoll
    let doorbell: EventFD
    let mailbox = Mutex<[Job]>([])
    /// An empty buffer (with capacity) for the next exchange with the mailbox; loop thread only.
    var spareJobs: [Job] = []

    var connections: [UInt64: Connection] = [:]
    /// Open connections per client address on this loop, for the per-client cap.
    var perClient: [String: Int] = [:]
    var nextID: UInt64 = 2
    var readBuffer: UnsafeMutableRawBufferPointer
    var listening = true
    var drainDeadline: UInt64?
    /// "\r\nDate: <IMF-fixdate>", rebuilt once a second.
    var dateField: [UInt8] = []
    let requestIDs = RequestIDGenerator()
    var dateSecond: Int64 = -1
    let wallClock = WallClock()

    init(
        index: Int, listener: ListeningSocket, configuration: ServerConfiguration, pipeline: Pipeline,
        metrics: ServerMetrics, logger: Logger, workers: DispatchQueue, connectionBudget: ConnectionBudget
    ) throws(SystemCallError) {
        self.index = index
        self.listener = listener
        self.configuration = configuration
        self.pipeline = pipeline
        self.metrics = metrics
        self.logger = logger
        self.workers = workers
        self.connectionBudget = connectionBudget
        self.epoll = try Epoll()
        self.doorbell = try EventFD()
        self.readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        try epoll.add(listener.fd, events: .readable, token: Self.listenerToken)
        try epoll.add(doorbell.fd, events: .readable, token: Self.doorbellToken)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Hands a job to the loop from any thread.
    ///
    /// Only the job that finds the mailbox empty rings the doorbell: the loop takes every
    /// queued job at each wake-up, so later ones ride on that ring (one eventfd write per
    /// batch rather than per response).
    func submit(_ job: Job) {
        let wasEmpty = mailbox.withLock { jobs -> Bool in
            jobs.append(job)
            return jobs.count == 1
        }
        if wasEmpty { doorbell.ring() }
    }

    // MARK: - The loop

    /// Runs until a shutdown has drained every connection or its deadline passed.
    func run() {
        var nextSweep = MonotonicClock.nanoseconds() + Self.sweepNanoseconds
        while true {
            refreshDate()
            do {
                try epoll.wait(timeoutMilliseconds: 250) { token, events in
                    switch token {
                    case Self.listenerToken: acceptConnections()
                    case Self.doorbellToken: drainMailbox()
                    default: handle(token, events)
                    }
                }
            } catch {
                logger.critical("loop.wait_failed", ["loop": .int(index), "error": .string("\(error)")])
                break
            }
            let now = MonotonicClock.nanoseconds()
            if now >= nextSweep {
                sweep(now)
                nextSweep = now + Self.sweepNanoseconds
            }
            if let deadline = drainDeadline {
                if connections.isEmpty { break }
                if now >= deadline {
                    logger.warning(
                        "loop.shutdown_forced", ["loop": .int(index), "conn.count": .int(connections.count)])
                    for connection in Array(connections.values) { close(connection) }
                    break
                }
            }
        }
        stopListening()
    }

    func refreshDate() {
        let seconds = wallClock.unixSeconds()
        if seconds != dateSecond {
            dateSecond = seconds
            dateField = Array(("\r\nDate: " + WallClock.httpDate(unixSeconds: seconds)).utf8)
        }
    }

    func drainMailbox() {
        doorbell.drain()
        // The mailbox and `spareJobs` trade buffers, so neither is reallocated per wake-up.
        var jobs = spareJobs
        spareJobs = []
        mailbox.withLock { swap(&$0, &jobs) }
        defer {
            jobs.removeAll(keepingCapacity: true)
            spareJobs = jobs
        }
        for job in jobs {
            switch job {
            case .deliver(let id, let response, let context):
                // The connection may have gone while the handler ran; the response is dropped.
                guard let connection = connections[id] else { continue }
                finish(connection, response, context)
                flush(connection)
                resume(connection)
            case .streamPiece(let id, let bytes, let failed):
                guard let connection = connections[id] else { continue }
                receivePiece(connection, bytes, failed: failed)
            case .beginShutdown(let deadline):
                beginShutdown(deadline: deadline)
            }
        }
    }

    func beginShutdown(deadline: UInt64) {
        drainDeadline = deadline
        stopListening()
        for connection in Array(connections.values) {
            if connection.phase == .idle && !connection.hasPendingOutput {
                close(connection)
            } else if connection.phase == .readingHead && !connection.sawRequestBytes {
                close(connection)
            } else {
                // Whatever is in progress finishes, with Connection: close.
                connection.keepAlive = false
                if connection.phase == .idle || connection.phase == .lingering { connection.closeAfterFlush = true }
            }
        }
    }

    func stopListening() {
        guard listening else { return }
        listening = false
        epoll.remove(listener.fd)
        listener.close()
    }

    // MARK: - Accepting

    func acceptConnections() {
        while listening {
            switch listener.accept() {
            case .wouldBlock:
                return
            case .failed(let error):
                logger.warning("loop.accept_failed", ["loop": .int(index), "error": .string("\(error)")])
                return
            case .connection(let fd, let peer):
                admit(fd: fd, peer: peer?.description ?? "", host: peer?.host ?? "")
            }
        }
    }

    func admit(fd: Int32, peer: String, host: String) {
        let now = MonotonicClock.nanoseconds()
        guard (perClient[host] ?? 0) < configuration.maxConnectionsPerClient else {
            metrics.connectionRefused()
            refuse(fd)
            return
        }
        guard connectionBudget.take() else {
            metrics.connectionRefused()
            refuse(fd)
            return
        }
        perClient[host, default: 0] += 1
        let id = nextID
        nextID += 1
        let connection = Connection(id: id, fd: fd, peer: peer, host: host, limits: configuration.limits, now: now)
        if let context = configuration.tls {
            do {
                connection.tls = try context.makeConnection()
            } catch {
                connectionBudget.give()
                releaseClientSlot(host)
                Descriptor.close(fd)
                return
            }
        }
        do {
            try epoll.add(fd, events: [.readable, .writable, .readHangUp, .edgeTriggered], token: id)
        } catch {
            connectionBudget.give()
            releaseClientSlot(host)
            Descriptor.close(fd)
            return
        }
        connections[id] = connection
        metrics.connectionOpened()
    }

    /// Over the connection cap: a best-effort 503 and an immediate close.
    func refuse(_ fd: Int32) {
        guard configuration.tls == nil else {
            // A plaintext 503 means nothing to a TLS client: just close.
            Descriptor.close(fd)
            return
        }
        let requestID = requestIDs.next()
        let problem = HTTPProblem(
            status: 503, detail: "The gateway has reached its connection limit; retry shortly.",
            headers: [("Retry-After", "1")])
        let response = ProblemJSONRenderer().render(problem, requestID: requestID)
        var bytes: [UInt8] = []
        HTTPResponseEncoder.encode(
            HTTPResponseHead(status: response.status, headers: response.headers), into: &bytes, terminated: false)
        bytes += Self.contentLengthField
        Self.appendDecimal(response.body.count, to: &bytes)
        bytes += dateField + Self.requestIDField + Array(requestID.utf8) + Self.closeAndEndOfHead + response.body
        _ = bytes.withUnsafeBytes { Descriptor.send(fd, $0) }
        Descriptor.shutdownWrite(fd)
        Descriptor.close(fd)
    }

    // MARK: - Readiness

    func handle(_ token: UInt64, _ events: Epoll.Events) {
        guard let connection = connections[token] else { return }
        if events.contains(.error) {
            close(connection)
            return
        }
        if events.contains(.writable) && connection.hasPendingOutput {
            flush(connection)
            guard connections[token] != nil else { return }
            if connection.streaming != nil {
                pullPiece(connection)
            } else if !connection.hasPendingOutput {
                resume(connection)
            }
        }
        if events.contains(.readable) || events.contains(.readHangUp) || events.contains(.hangUp) {
            readAvailable(connection)
        }
    }

    /// Reads until the socket is drained or the connection stops accepting input.
    func readAvailable(_ connection: Connection) {
        while connections[connection.id] != nil {
            if connection.phase == .lingering {
                guard discardInput(connection) else { return }
                continue
            }
            guard connection.acceptsInput, !connection.peerClosed else {
                connection.mayHaveUnreadInput = true
                return
            }
            switch Descriptor.read(connection.fd, into: readBuffer) {
            case .bytes(let count):
                let input = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
                if let tls = connection.tls {
                    guard let plaintext = decrypt(connection, tls, input) else { return }
                    if !plaintext.isEmpty { plaintext.withUnsafeBytes { process(connection, $0) } }
                } else {
                    process(connection, input)
                }
                flush(connection)
                // A short read drained the socket; new data will raise a new edge.
                if count < readBuffer.count {
                    connection.mayHaveUnreadInput = false
                    return
                }
            case .wouldBlock:
                connection.mayHaveUnreadInput = false
                return
            case .endOfFile:
                peerFinished(connection)
                return
            case .failed:
                close(connection)
                return
            }
        }
    }

    /// While lingering: read and throw away; false when there is nothing more to read now.
    func discardInput(_ connection: Connection) -> Bool {
        switch Descriptor.read(connection.fd, into: readBuffer) {
        case .bytes(let count):
            return count == readBuffer.count
        case .wouldBlock:
            return false
        case .endOfFile, .failed:
            close(connection)
            return false
        }
    }

    /// The client sent its last byte. Answer what is in progress, then close.
    func peerFinished(_ connection: Connection) {
        connection.peerClosed = true
        if connection.phase == .awaitingResponse || connection.hasPendingOutput {
            connection.closeAfterFlush = true
        } else {
            close(connection)
        }
    }

    // MARK: - Requests

    /// Feeds bytes to the parser and answers every complete request, in order.
    func process(_ connection: Connection, _ input: UnsafeRawBufferPointer) {
        var offset = 0
        let now = MonotonicClock.nanoseconds()
        while offset < input.count && connection.acceptsInput {
            let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
            let (consumed, event) = connection.parser.parse(rest)
            offset += consumed
            guard let event else {
                if consumed == 0 { break }
                continue
            }
            switch event {
            case .head(let head):
                if head.expectsContinue && drainDeadline == nil {
                    connection.output.append(contentsOf: Self.continueBytes)
                }
            case .request(let request):
                dispatch(connection, request, started: now)
            case .failure(let error):
                reject(connection, error)
            }
        }
        if offset < input.count && !connection.closeAfterFlush && connection.phase != .lingering {
            connection.stashedInput.append(contentsOf: input[offset...])
        }
        connection.settlePhase(at: now)
    }

    static let continueBytes = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    static let contentLengthField = Array("Content-Length: ".utf8)
    static let requestIDField = Array("\r\nX-Request-Id: ".utf8)
    static let endOfHead = Array("\r\n\r\n".utf8)
    static let closeAndEndOfHead = Array("\r\nConnection: close\r\n\r\n".utf8)
    static let keepAliveAndEndOfHead = Array("\r\nConnection: keep-alive\r\n\r\n".utf8)

    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var remaining = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[19 - count] = 0x30 + UInt8(remaining % 10)
                remaining /= 10
                count += 1
            } while remaining > 0
            buffer.append(contentsOf: raw[(20 - count)...])
        }
    }

    /// Routes one request: answered inline, or sent to a worker with reads paused.
    func dispatch(_ connection: Connection, _ parsed: HTTPRequest, started: UInt64) {
        let head = parsed.head
        let keepAlive = head.keepAlive && drainDeadline == nil
        connection.keepAlive = keepAlive
        // A finished request is activity: the idle deadline runs from here.
        connection.phaseStarted = started
        var request = Request(
            head: head, body: parsed.body, trailers: parsed.trailers,
            requestID: requestIDs.resolve(head.headers["X-Request-Id"]), remoteAddress: connection.peer)
        request.isSecure = connection.tls != nil
        request.clientCertificate = connection.tls?.peerCertificate
        let context = { (route: String) in
            ResponseContext(
                requestID: request.requestID, method: head.method, route: route, keepAlive: keepAlive,
                started: started, http10: head.version == .http1_0)
        }
        var unmatched: any ErrorRenderer { pipeline.router.fallbackRenderer(for: head.path) }
        switch pipeline.router.match(method: head.method, path: head.path) {
        case .found(let route, let parameters):
            request.route = route.pattern
            request.pathParameters = parameters
            switch route.execution {
            case .onLoop:
                let response = pipeline.respond(to: request, route: route)
                if response.gate != nil {
                    connection.enter(.awaitingResponse, at: started)
                    deliverWhenOpen(response, to: connection.id, context(route.pattern))
                } else {
                    finish(connection, response, context(route.pattern))
                }
            case .onWorker:
                connection.enter(.awaitingResponse, at: started)
                let id = connection.id
                let pipeline = self.pipeline
                let finished = context(route.pattern)
                let sendableRequest = request
                workers.async { [self] in
                    let response = pipeline.respond(to: sendableRequest, route: route)
                    deliverWhenOpen(response, to: id, finished)
                }
            }
        case .methodNotAllowed(let allowed):
            let problem = HTTPProblem(
                status: 405, detail: "This path does not support the \(Self.safeMethod(head.method)) method.",
                headers: [("Allow", allowed.joined(separator: ", "))])
            finish(connection, unmatched.render(problem, requestID: request.requestID), context("unmatched"))
        case .notFound:
            let problem = HTTPProblem.notFound()
            finish(connection, unmatched.render(problem, requestID: request.requestID), context("unmatched"))
        case .badPath:
            let problem = HTTPProblem.badRequest("The path holds an invalid percent-encoding.")
            finish(connection, unmatched.render(problem, requestID: request.requestID), context("unmatched"))
        }
    }

    /// Hands a worker's response to the loop, after its gate opens when it has one.
    func deliverWhenOpen(_ response: Response, to id: UInt64, _ context: ResponseContext) {
        guard let gate = response.gate else {
            submit(.deliver(connection: id, response: response, request: context))
            return
        }
        var copy = response
        copy.gate = nil
        let ungated = copy
        gate.wait { [self] replacement in
            submit(.deliver(connection: id, response: replacement ?? ungated, request: context))
        }
    }

    /// Method tokens are client-chosen; only the standard ones are echoed back.
    static func safeMethod(_ method: String) -> String {
        ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"].contains(method)
            ? method : "requested"
    }

    /// A request the parser refused: answer with its status and close the connection.
    func reject(_ connection: Connection, _ error: HTTPParseError) {
        let problem = HTTPProblem(status: error.status, detail: error.reason)
        let requestID = requestIDs.next()
        let response = ProblemJSONRenderer().render(problem, requestID: requestID)
        connection.keepAlive = false
        let context = ResponseContext(
            requestID: requestID, method: "other", route: "unmatched", keepAlive: false,
            started: MonotonicClock.nanoseconds())
        finish(connection, response, context)
    }

    /// Serialises a response onto the connection's output and counts it. The handler's headers
    /// go through the encoder's guards; the framing fields the server owns are appended as bytes.
    func finish(_ connection: Connection, _ response: Response, _ context: ResponseContext) {
        if let stream = response.stream, context.method != "HEAD" {
            startStream(connection, response, stream, context)
            return
        }
        let keepAlive = context.keepAlive && connection.keepAlive && !connection.peerClosed
        HTTPResponseEncoder.encode(
            HTTPResponseHead(status: response.status, headers: response.headers), into: &connection.output,
            terminated: false)
        connection.output.append(contentsOf: Self.contentLengthField)
        Self.appendDecimal(response.body.count, to: &connection.output)
        connection.output.append(contentsOf: dateField)
        connection.output.append(contentsOf: Self.requestIDField)
        connection.output.append(contentsOf: context.requestID.utf8)
        if keepAlive {
            connection.output.append(contentsOf: context.http10 ? Self.keepAliveAndEndOfHead : Self.endOfHead)
        } else {
            connection.output.append(contentsOf: Self.closeAndEndOfHead)
        }
        if context.method != "HEAD" { connection.output.append(contentsOf: response.body) }
        completed(connection, status: response.status, context, keepAlive: keepAlive)
    }

    /// Counts a response whose last byte is queued and settles the connection's phase.
    func completed(_ connection: Connection, status: Int, _ context: ResponseContext, keepAlive: Bool) {
        let now = MonotonicClock.nanoseconds()
        let seconds = Double(now &- context.started) / 1e9
        metrics.record(method: context.method, route: context.route, status: status, seconds: seconds)
        if logger.isEnabled(.debug) {
            logger.debug(
                "http.request",
                [
                    "req.id": .string(context.requestID), "conn.id": .int(Int(connection.id)),
                    "http.method": .string(Self.safeMethod(context.method)), "http.route": .string(context.route),
                    "http.status": .int(status), "http.duration_us": .int(Int(seconds * 1e6)),
                ])
        }
        if connection.phase == .awaitingResponse {
            connection.phase = .idle
            connection.settlePhase(at: now)
        }
        if !keepAlive { connection.closeAfterFlush = true }
    }

    /// After a worker's response or a drained output buffer: parse what was stashed, then read.
    func resume(_ connection: Connection) {
        guard connections[connection.id] != nil, connection.acceptsInput else { return }
        if !connection.stashedInput.isEmpty {
            let stashed = connection.stashedInput
            connection.stashedInput.removeAll()
            stashed.withUnsafeBytes { process(connection, $0) }
            flush(connection)
        }
        guard connections[connection.id] != nil, connection.acceptsInput else { return }
        if connection.peerClosed {
            if !connection.hasPendingOutput && connection.parser.isIdle { close(connection) }
            return
        }
        // A TLS session may hold records it has not yet handed over: always read there.
        guard connection.mayHaveUnreadInput || connection.tls != nil else { return }
        readAvailable(connection)
    }

    // MARK: - Writing and closing

    /// Writes as much queued output as the socket takes; closes or lingers when the final
    /// response is out. On a TLS connection the plaintext is sealed into records first.
    func flush(_ connection: Connection) {
        if let tls = connection.tls {
            guard seal(connection, tls), sendAll(connection, wire: true) else { return }
        } else {
            guard sendAll(connection, wire: false) else { return }
        }
        if connection.closeAfterFlush && connection.phase != .awaitingResponse && connection.phase != .lingering {
            if connection.peerClosed {
                close(connection)
            } else {
                if let tls = connection.tls {
                    // close_notify, best effort: the peer may already be gone.
                    tls.close()
                    connection.wire.append(contentsOf: tls.takeOutgoing())
                    _ = sendAll(connection, wire: true)
                    guard connections[connection.id] != nil else { return }
                }
                Descriptor.shutdownWrite(connection.fd)
                connection.enter(.lingering, at: MonotonicClock.nanoseconds())
            }
        }
    }

    /// Sends the plaintext buffer, or the TLS record buffer; true when it is empty afterwards,
    /// false when the socket is full (the writable edge resumes us) or the connection closed.
    func sendAll(_ connection: Connection, wire: Bool) -> Bool {
        while wire ? connection.wireSent < connection.wire.count : connection.outputSent < connection.output.count {
            let result =
                wire
                ? connection.wire.withUnsafeBytes {
                    Descriptor.send(connection.fd, UnsafeRawBufferPointer(rebasing: $0[connection.wireSent...]))
                }
                : connection.output.withUnsafeBytes {
                    Descriptor.send(connection.fd, UnsafeRawBufferPointer(rebasing: $0[connection.outputSent...]))
                }
            switch result {
            case .bytes(let count):
                if wire { connection.wireSent += count } else { connection.outputSent += count }
                connection.lastWrite = MonotonicClock.nanoseconds()
            case .wouldBlock:
                return false
            case .endOfFile, .failed:
                close(connection)
                return false
            }
        }
        if wire {
            connection.wire.removeAll(keepingCapacity: connection.wire.capacity <= 64 * 1024)
            connection.wireSent = 0
        } else {
            connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
            connection.outputSent = 0
        }
        return true
    }

    func releaseClientSlot(_ host: String) {
        if let count = perClient[host], count > 1 { perClient[host] = count - 1 } else { perClient[host] = nil }
    }

    func close(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        releaseClientSlot(connection.host)
        epoll.remove(connection.fd)
        Descriptor.close(connection.fd)
        connectionBudget.give()
        metrics.connectionClosed()
    }

    // MARK: - Deadlines

    /// Enforces the header, body, idle, linger and stalled-write deadlines.
    func sweep(_ now: UInt64) {
        let second: UInt64 = 1_000_000_000
        for connection in Array(connections.values) {
            let elapsed = now &- connection.phaseStarted
            if connection.hasPendingOutput {
                if now &- connection.lastWrite > UInt64(configuration.idleTimeoutSeconds) * second {
                    close(connection)
                }
                continue
            }
            switch connection.phase {
            case .idle:
                if elapsed > UInt64(configuration.idleTimeoutSeconds) * second { close(connection) }
            case .readingHead:
                guard elapsed > UInt64(configuration.headerTimeoutSeconds) * second else { continue }
                if connection.sawRequestBytes {
                    timeOut(connection, "The request head did not arrive in time.")
                } else {
                    close(connection)
                }
            case .readingBody:
                if elapsed > UInt64(configuration.bodyTimeoutSeconds) * second {
                    timeOut(connection, "The request body did not arrive in time.")
                }
            case .lingering:
                if elapsed > Self.lingerNanoseconds { close(connection) }
            case .awaitingResponse:
                continue
            }
        }
    }

    func timeOut(_ connection: Connection, _ detail: String) {
        let requestID = requestIDs.next()
        let response = ProblemJSONRenderer().render(HTTPProblem(status: 408, detail: detail), requestID: requestID)
        connection.keepAlive = false
        connection.stashedInput.removeAll()
        finish(
            connection, response,
            ResponseContext(
                requestID: requestID, method: "other", route: "unmatched", keepAlive: false,
                started: MonotonicClock.nanoseconds()))
        flush(connection)
    }
}
