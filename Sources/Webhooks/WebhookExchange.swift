import Foundation
import POSIX
import TLS

/// One attempt of ``TLSSocketTransport``: resolve, connect, (TLS), send the POST, read the
/// response head. Blocking; every wait ends at `deadline`.
struct WebhookExchange {
    let request: WebhookRequest
    let context: TLSContext
    let deadline: Deadline

    /// The status line's outcome, or why there was none.
    func run() -> AttemptOutcome {
        do throws(ExchangeFailure) {
            let target = try Target(request.url)
            let head = try requestHead(for: target)
            let socket = try connect(to: target)
            defer { socket.close() }
            let stream =
                target.secure
                ? try SocketStream(
                    socket: socket, context: context, serverName: target.host,
                    deadline: deadline)
                : SocketStream(socket: socket, deadline: deadline)
            try stream.write(head + request.body)
            let outcome = try ResponseHead.read(from: stream)
            stream.finish()
            return outcome
        } catch {
            return .failure(error.failure)
        }
    }

    /// The POST's request line and headers, ending with the blank line.
    ///
    /// Throws `.network` when a header name or value holds CR, LF or NUL, or a name holds a
    /// colon: such a request would let its content forge headers, so nothing is sent.
    func requestHead(for target: Target) throws(ExchangeFailure) -> [UInt8] {
        var fields: [(name: String, value: String)] = [
            ("host", target.hostField),
            ("content-length", String(request.body.count)),
            ("connection", "close"),
        ]
        if request.header("content-type") == nil {
            fields.append(("content-type", "application/json"))
        }
        let reserved: Set<String> = ["host", "content-length", "connection"]
        fields += request.headers.filter { !reserved.contains($0.name.lowercased()) }

        var text = "POST \(target.pathAndQuery) HTTP/1.1\r\n"
        for (name, value) in fields {
            let forbidden = name.utf8.contains { $0 == 0x3A || $0 < 0x21 || $0 == 0x7F }
                || value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
            guard !name.isEmpty, !forbidden else {
                throw ExchangeFailure(.network)
            }
            text += "\(name): \(value)\r\n"
        }
        return Array((text + "\r\n").utf8)
    }

    /// A socket connected to the first of the target's addresses that accepts.
    ///
    /// Every address is tried while time remains; the failure reported is the last one seen,
    /// and `.timeout` once the deadline has passed.
    func connect(to target: Target) throws(ExchangeFailure) -> ClientSocket {
        let host = target.host.lowercased() == "localhost" ? "127.0.0.1" : target.host
        let addresses = ClientSocket.resolve(host: host, port: target.port)
        guard !addresses.isEmpty else {
            throw ExchangeFailure(.hostNotFound)
        }
        var failure = AttemptFailure.network
        for address in addresses {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else {
                throw ExchangeFailure(.timeout)
            }
            do {
                return try ClientSocket.connect(to: address, timeoutMilliseconds: remaining)
            } catch {
                failure =
                    error.isConnectionRefused
                    ? .connectionRefused : error.isTimedOut ? .timeout : .network
            }
        }
        throw ExchangeFailure(deadline.remainingMilliseconds == 0 ? .timeout : failure)
    }
}

extension WebhookExchange {
    /// Where a request goes, taken from its URL.
    struct Target {
        /// Whether the scheme is https.
        let secure: Bool
        /// The host as TLS must see it named: a DNS name, or an IP address without brackets.
        let host: String
        let port: UInt16
        /// The percent-encoded path ("/" when empty) and query.
        let pathAndQuery: String

        /// Throws `.network` for a URL that is not absolute http(s) with a host.
        init(_ url: URL) throws(ExchangeFailure) {
            guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
                let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
                var host = components.host, !host.isEmpty
            else {
                throw ExchangeFailure(.network)
            }
            if host.hasPrefix("["), host.hasSuffix("]") {
                host = String(host.dropFirst().dropLast())
            }
            secure = scheme == "https"
            let port = components.port ?? (secure ? 443 : 80)
            guard let port = UInt16(exactly: port), port > 0 else {
                throw ExchangeFailure(.network)
            }
            self.host = host
            self.port = port
            let path = components.percentEncodedPath
            var target = path.isEmpty ? "/" : path
            if let query = components.percentEncodedQuery {
                target += "?" + query
            }
            pathAndQuery = target
        }

        /// The `host` header: the host (IPv6 in brackets), with the port when not the default.
        var hostField: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
        }
    }
}
