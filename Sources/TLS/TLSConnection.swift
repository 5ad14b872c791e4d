internal import COpenSSL

/// One TLS session over memory buffers. Owns one `SSL`, and through it the two memory BIOs
/// that stand in for the socket; all are freed in `deinit`.
///
/// The engine never touches a socket. The owner feeds it the bytes read from the peer with
/// `receive(_:)`, hands it application bytes with `send(_:)`, and after every call sends
/// whatever `takeOutgoing()` returns (handshake messages, records, alerts), even when the call
/// threw: a failed handshake leaves an alert there that tells the peer why.
///
/// Not thread-safe and deliberately not `Sendable`: a connection belongs to the one
/// event-loop thread that owns its socket.
///
/// Closing: `close()` queues a close_notify; once it is sent the socket may be closed without
/// waiting for the peer's reply. When the peer's close_notify arrives, `receive(_:)` returns
/// the data that preceded it, queues the reply, and the state becomes `.closed`.
///
/// An event loop uses it like this (error handling shortened):
///
///     let plaintext = try tls.receive(bytesReadFromSocket)   // may be empty
///     if !plaintext.isEmpty { parser.feed(plaintext) }
///     if tls.state == .established { try tls.send(responseBytes) }
///     if tls.hasOutgoing { socket.write(tls.takeOutgoing()) }
///     if tls.state == .closed { /* flush, then close the socket */ }
///
/// A TLS 1.3 peer may send post-handshake messages (a key update) that need an answer, so
/// `hasOutgoing` is worth checking after every `receive(_:)`, not only after `send(_:)`.
public final class TLSConnection {
    /// Where the session is.
    public enum State: Sendable, Equatable {
        /// The handshake has not completed; `send(_:)` is refused.
        case handshaking
        /// Application data flows both ways.
        case established
        /// Closed by either side or by a failure; only `takeOutgoing()` remains useful.
        case closed
    }

    /// A plain-text HTTP/1.1 400 response that a server can send, instead of TLS bytes, to a
    /// client that spoke plain HTTP to the TLS port (the server's first `receive(_:)` threw
    /// `.protocolViolation`), before closing the connection.
    public static let plainHTTPResponse: [UInt8] = {
        let body = "This port speaks HTTPS only.\n"
        let head =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return Array((head + body).utf8)
    }()

    /// The first byte of a TLS record carrying a handshake message.
    private static let handshakeRecordType: UInt8 = 0x16

    /// The session. Never null; freed in `deinit`, which also frees both BIOs.
    private let pointer: OpaquePointer
    /// The BIO that `receive(_:)` fills with ciphertext; owned by the session.
    private let incoming: OpaquePointer
    /// The BIO that `takeOutgoing()` drains; owned by the session.
    private let outgoing: OpaquePointer
    /// Keeps the context, and so the policy this session was made with, alive.
    private let context: TLSContext

    /// Where the session is.
    public private(set) var state: State = .handshaking
    /// Whether the peer closed its side cleanly with a close_notify alert.
    public private(set) var closeNotifyReceived = false
    /// Whether this side queued its close_notify.
    private var closeNotifySent = false
    /// Whether the session ended in an error; nothing more is read from it.
    private var failed = false
    /// Whether the handshake completed, so that the negotiated parameters mean something.
    private(set) var handshakeCompleted = false
    /// Whether any ciphertext has been received yet; the first byte is checked on a server.
    private var receivedAnything = false

    /// Makes a session from `context`: a server session when `serverName` is nil, otherwise a
    /// client session to `serverName` with its ClientHello already queued.
    init(context: TLSContext, serverName: String?) throws(TLSError) {
        guard let session = context.withPointer({ SSL_new($0) }) else {
            throw TLSError.drainingOpenSSLQueue(.configuration, "cannot create a TLS session")
        }
        guard let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            SSL_free(session)
            fatalError("BIO_new: out of memory")
        }
        SSL_set_bio(session, incoming, outgoing)
        self.pointer = session
        self.incoming = incoming
        self.outgoing = outgoing
        self.context = context

        if let serverName {
            SSL_set_connect_state(pointer)
            try expectServer(named: serverName)
            try driveHandshake()
        } else {
            SSL_set_accept_state(pointer)
        }
    }

    deinit {
        SSL_free(pointer)
    }

    /// Whether ciphertext is waiting for `takeOutgoing()`.
    public var hasOutgoing: Bool {
        BIO_ctrl_pending(outgoing) > 0
    }

    /// Lends the `SSL*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }
}

extension TLSConnection {
    /// Feeds ciphertext received from the peer and returns the application bytes it decrypts
    /// to, possibly none. Drives the handshake while it is running.
    ///
    /// Throws `.protocolViolation` at once when a server's first byte is not a TLS handshake
    /// record (plain HTTP on the TLS port, for example), `.handshake` when the handshake fails,
    /// `.protocolViolation` for a bad record after it, and `.closed` once the session is over.
    /// After a local `close()`, incoming bytes are still read so that the peer's close_notify
    /// is noticed, but their application data is discarded.
    public func receive(_ ciphertext: UnsafeRawBufferPointer) throws(TLSError) -> [UInt8] {
        guard state != .closed || (closeNotifySent && !closeNotifyReceived && !failed) else {
            throw TLSError(.closed, "the TLS session is closed")
        }
        if !receivedAnything, let first = ciphertext.first {
            receivedAnything = true
            if context.role == .server && first != Self.handshakeRecordType {
                fail()
                throw TLSError(
                    .protocolViolation,
                    "the client did not start with a TLS handshake record (plain HTTP?)")
            }
        }
        appendIncoming(ciphertext)

        if state == .handshaking {
            try driveHandshake()
            if state == .handshaking {
                return []
            }
        }
        return try readPlaintext()
    }

    /// Encrypts `plaintext` into records waiting in `takeOutgoing()`.
    ///
    /// Throws `.notEstablished` during the handshake and `.closed` after it.
    public func send(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        switch state {
        case .handshaking:
            throw TLSError(.notEstablished, "the TLS handshake has not completed")
        case .closed:
            throw TLSError(.closed, "the TLS session is closed")
        case .established:
            break
        }
        guard let base = plaintext.baseAddress else {
            return
        }
        var offset = 0
        while offset < plaintext.count {
            let length = Int32(min(plaintext.count - offset, 1 << 20))
            TLSError.clearOpenSSLQueue()
            let written = SSL_write(pointer, base + offset, length)
            guard written > 0 else {
                fail()
                throw TLSError.drainingOpenSSLQueue(
                    .protocolViolation, "cannot encrypt application data")
            }
            offset += Int(written)
        }
    }

    /// Removes and returns the ciphertext waiting to go to the peer.
    public func takeOutgoing() -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            let pending = min(Int(BIO_ctrl_pending(outgoing)), Int(Int32.max))
            if pending == 0 {
                return bytes
            }
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: pending))
            let read = bytes.withUnsafeMutableBytes { buffer in
                BIO_read(outgoing, buffer.baseAddress! + start, Int32(pending))
            }
            // A memory BIO hands out exactly what it reports pending.
            precondition(read == Int32(pending), "memory BIO returned less than pending")
        }
    }

    /// Queues a close_notify alert and closes the session for sending.
    ///
    /// During the handshake there is nothing to protect, so no alert is queued; the owner
    /// simply closes the socket. Calling it again does nothing.
    public func close() {
        switch state {
        case .closed:
            return
        case .handshaking:
            state = .closed
        case .established:
            queueCloseNotify()
            state = .closed
        }
    }

    /// Copies ciphertext into the incoming BIO.
    private func appendIncoming(_ ciphertext: UnsafeRawBufferPointer) {
        guard let base = ciphertext.baseAddress else {
            return
        }
        var offset = 0
        while offset < ciphertext.count {
            let length = Int32(min(ciphertext.count - offset, 1 << 20))
            let written = BIO_write(incoming, base + offset, length)
            // A memory BIO only refuses a write when memory is exhausted.
            precondition(written == length, "memory BIO refused a write")
            offset += Int(written)
        }
    }

    /// Runs the handshake as far as the bytes received allow.
    private func driveHandshake() throws(TLSError) {
        TLSError.clearOpenSSLQueue()
        let result = SSL_do_handshake(pointer)
        if result == 1 {
            state = .established
            handshakeCompleted = true
            return
        }
        let reason = SSL_get_error(pointer, result)
        if reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE {
            return
        }
        fail()
        throw TLSError.drainingOpenSSLQueue(.handshake, handshakeFailureMessage())
    }

    /// Decrypts every complete record received, until OpenSSL needs more bytes.
    private func readPlaintext() throws(TLSError) -> [UInt8] {
        let closedLocally = closeNotifySent
        var plaintext: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            TLSError.clearOpenSSLQueue()
            let count = buffer.withUnsafeMutableBytes {
                SSL_read(pointer, $0.baseAddress, Int32($0.count))
            }
            if count > 0 {
                plaintext.append(contentsOf: buffer[0..<Int(count)])
                continue
            }
            let reason = SSL_get_error(pointer, count)
            if reason == SSL_ERROR_WANT_READ {
                break
            }
            if reason == SSL_ERROR_ZERO_RETURN {
                closeNotifyReceived = true
                if !closeNotifySent {
                    queueCloseNotify()
                }
                state = .closed
                break
            }
            fail()
            throw TLSError.drainingOpenSSLQueue(
                .protocolViolation, "cannot decrypt a record from the peer")
        }
        // After a local close the peer's data has no reader; only its close_notify mattered.
        return closedLocally ? [] : plaintext
    }

    /// Writes this side's close_notify into the outgoing BIO.
    private func queueCloseNotify() {
        TLSError.clearOpenSSLQueue()
        // 0 means "sent, the peer's has not arrived" and 1 "both sent"; both are fine. A
        // negative result means the alert could not be written; the session is over either way
        // and the owner closes the socket, so the queue is cleared rather than reported.
        if SSL_shutdown(pointer) < 0 {
            TLSError.clearOpenSSLQueue()
        }
        closeNotifySent = true
    }

    /// Marks the session as ended by an error.
    private func fail() {
        failed = true
        state = .closed
    }

    /// Explains a failed handshake, naming the certificate check that failed on a client.
    private func handshakeFailureMessage() -> String {
        let verification = SSL_get_verify_result(pointer)
        guard context.role == .client, verification != Int(X509_V_OK) else {
            return "the TLS handshake failed"
        }
        let reason = String(cString: X509_verify_cert_error_string(verification))
        return "the TLS handshake failed: the server certificate was refused (\(reason))"
    }
}
