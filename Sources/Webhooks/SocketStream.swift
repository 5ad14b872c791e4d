import POSIX
import TLS

/// Why an exchange stopped before a status line: the ``AttemptFailure`` to report.
struct ExchangeFailure: Error {
    let failure: AttemptFailure

    init(_ failure: AttemptFailure) {
        self.failure = failure
    }
}

/// The byte stream of one delivery connection, plain or through TLS, on a connected
/// non-blocking socket. Every wait ends at `deadline` with `.timeout`.
///
/// Not thread-safe: one exchange on one thread owns it. It does not own the socket; the
/// exchange closes that.
final class SocketStream {
    private let socket: ClientSocket
    private let tls: TLSConnection?
    private let deadline: Deadline
    /// Plaintext that arrived with the end of the handshake, handed out by the first `read()`.
    private var early: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 16_384)

    /// A plain stream over `socket`.
    init(socket: ClientSocket, deadline: Deadline) {
        self.socket = socket
        self.tls = nil
        self.deadline = deadline
    }

    /// A TLS stream over `socket`, after a completed handshake in which the server proved
    /// itself as `serverName` to `context`'s trusted CAs. Throws `.tls` when it did not.
    init(socket: ClientSocket, context: TLSContext, serverName: String, deadline: Deadline)
        throws(ExchangeFailure)
    {
        self.socket = socket
        self.deadline = deadline
        let tls: TLSConnection
        do {
            tls = try context.makeConnection(serverName: serverName)
        } catch {
            throw ExchangeFailure(.tls)
        }
        self.tls = tls
        try flush(tls)
        while tls.state == .handshaking {
            guard let ciphertext = try readSocket() else {
                // The server hung up on the ClientHello or its certificate request.
                throw ExchangeFailure(.tls)
            }
            try early += decrypt(ciphertext, with: tls)
        }
        guard tls.state == .established else {
            throw ExchangeFailure(.tls)
        }
    }

    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws(ExchangeFailure) {
        guard let tls else {
            try writeSocket(bytes)
            return
        }
        do {
            try bytes.withUnsafeBytes { try tls.send($0) }
        } catch {
            throw ExchangeFailure(.tls)
        }
        try flush(tls)
    }

    /// The next bytes from the peer, or nil at the end of the stream (or of the TLS session).
    func read() throws(ExchangeFailure) -> [UInt8]? {
        guard let tls else {
            return try readSocket()
        }
        if !early.isEmpty {
            defer { early = [] }
            return early
        }
        while tls.state != .closed {
            guard let ciphertext = try readSocket() else {
                return nil
            }
            let plaintext = try decrypt(ciphertext, with: tls)
            if !plaintext.isEmpty {
                return plaintext
            }
        }
        return nil
    }

    /// Ends the TLS session with a close_notify, sent only if the socket takes it at once:
    /// the response is already known and the connection is closed next either way.
    func finish() {
        guard let tls, tls.state == .established else {
            return
        }
        tls.close()
        let alert = tls.takeOutgoing()
        _ = alert.withUnsafeBytes { socket.send($0) }
    }

    /// Feeds `ciphertext` to the engine and sends whatever it queued (handshake messages,
    /// alerts, key update answers), also when it failed: its alert tells the peer why.
    private func decrypt(_ ciphertext: [UInt8], with tls: TLSConnection)
        throws(ExchangeFailure) -> [UInt8]
    {
        let plaintext: [UInt8]
        do {
            plaintext = try ciphertext.withUnsafeBytes { try tls.receive($0) }
        } catch {
            let alert = tls.takeOutgoing()
            // Best effort: the attempt has already failed as `.tls`, whatever this returns.
            _ = alert.withUnsafeBytes { socket.send($0) }
            throw ExchangeFailure(.tls)
        }
        try flush(tls)
        return plaintext
    }

    private func flush(_ tls: TLSConnection) throws(ExchangeFailure) {
        if tls.hasOutgoing {
            try writeSocket(tls.takeOutgoing())
        }
    }

    private func writeSocket(_ bytes: [UInt8]) throws(ExchangeFailure) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes[offset...].withUnsafeBytes { socket.send($0) }
            switch result {
            case .bytes(let count):
                offset += count
            case .wouldBlock:
                try wait(for: .writable)
            case .endOfFile, .failed:
                throw ExchangeFailure(.connectionLost)
            }
        }
    }

    /// What the socket has, waiting for it; nil once the peer has closed its side.
    private func readSocket() throws(ExchangeFailure) -> [UInt8]? {
        while true {
            let result = buffer.withUnsafeMutableBytes { socket.read(into: $0) }
            switch result {
            case .bytes(let count):
                return Array(buffer[0..<count])
            case .endOfFile:
                return nil
            case .wouldBlock:
                try wait(for: .readable)
            case .failed:
                throw ExchangeFailure(.connectionLost)
            }
        }
    }

    private func wait(for readiness: ClientSocket.Readiness) throws(ExchangeFailure) {
        let remaining = deadline.remainingMilliseconds
        guard remaining > 0 else {
            throw ExchangeFailure(.timeout)
        }
        let ready: Bool
        do {
            ready = try socket.wait(for: readiness, timeoutMilliseconds: remaining)
        } catch {
            throw ExchangeFailure(.network)
        }
        guard ready else {
            throw ExchangeFailure(.timeout)
        }
    }
}
