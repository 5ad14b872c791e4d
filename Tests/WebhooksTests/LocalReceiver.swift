import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real HTTP receiver: a Python `http.server` child process on 127.0.0.1.
///
/// It writes every request (path, headers, body, whether the Standard Webhooks signature
/// verified with its own HMAC code) as one JSON line to a log file, then answers by path:
/// - `/ok…`: 200;
/// - `/flaky/N…`: 500 to the first N requests on that path, then 200;
/// - `/status/S[/R]`: status S, with `Retry-After: R` when given;
/// - `/redirect`: 302 to `/ok/redirected`;
/// - `/sleep/T…`: waits T seconds, then 200;
/// - `/hang-first/T`: waits T seconds on the first request only, then 200;
/// - `/trickle`: 200 with a 100 kB length, then one byte every 100 ms.
/// Python's verification is independent of the Swift signer, so a match proves interop.
/// With a certificate it serves HTTPS (Python's `ssl`), handshaking in the request's thread.
///
/// Starting and stopping block on the child process, so both run on a Dispatch queue and are
/// awaited: blocking Swift concurrency's few threads would stall the other tests' timers.
///
/// `@unchecked Sendable`: the stored properties are constants, and `Process` may be
/// signalled and polled from any thread.
final class LocalReceiver: @unchecked Sendable {
    struct Request {
        let path: String
        /// How many requests this path had received, this one included.
        let count: Int
        let headers: [String: String]
        let body: [UInt8]
        let verified: Bool
    }

    let port: Int
    let logPath: String
    /// "https" when started with a certificate, else "http".
    let scheme: String
    private let process: Process

    /// Starts a receiver on `port` (0: any free port) that verifies with `secret`; with
    /// `certificate` (PEM chain and key files) it speaks HTTPS.
    static func start(
        directory: TemporaryDirectory, port: Int = 0, secret: String = Signatures.specSecret,
        certificate: (chainPath: String, keyPath: String)? = nil
    ) async throws -> LocalReceiver {
        let logPath = directory.path("receiver-\(UUID().uuidString).jsonl")
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try LocalReceiver(
                            port: port, logPath: logPath, secret: secret,
                            certificate: certificate)
                    })
            }
        }
    }

    private init(
        port: Int, logPath: String, secret: String,
        certificate: (chainPath: String, keyPath: String)?
    ) throws {
        self.logPath = logPath
        self.scheme = certificate == nil ? "http" : "https"
        let output = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", "-c", Self.script, String(port), logPath, secret]
            + (certificate.map { [$0.chainPath, $0.keyPath] } ?? [])
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(contentsOf: chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bound = Int(text) else {
            kill(process.processIdentifier, SIGKILL)
            throw ReceiverFailure(message: "the receiver did not start")
        }
        self.port = bound
    }

    deinit {
        // Without waiting: Foundation reaps the child when it exits.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }

    /// Stops the receiver (SIGTERM, then SIGKILL after 2 s); its port is then closed.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [self] in
                if process.isRunning {
                    process.terminate()
                    let deadline = Date().addingTimeInterval(2)
                    while process.isRunning && Date() < deadline {
                        usleep(10_000)
                    }
                    if process.isRunning {
                        kill(process.processIdentifier, SIGKILL)
                    }
                    process.waitUntilExit()
                }
                continuation.resume()
            }
        }
    }

    func url(_ path: String, host: String = "127.0.0.1") -> String {
        "\(scheme)://\(host):\(port)\(path)"
    }

    /// Every request received so far, oldest first.
    func requests() throws -> [Request] {
        guard let data = FileManager.default.contents(atPath: logPath) else {
            return []
        }
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let encodedBody = try #require(object["body"] as? String)
            return Request(
                path: try #require(object["path"] as? String),
                count: try #require(object["n"] as? Int),
                headers: try #require(object["headers"] as? [String: String]),
                body: Array(try #require(Data(base64Encoded: encodedBody))),
                verified: try #require(object["verified"] as? Bool))
        }
    }

    struct ReceiverFailure: Error {
        let message: String
    }

    private static let script = #"""
        import base64, hashlib, hmac, http.server, json, os, signal, socketserver, sys
        import threading, time
        # The test runner may start children with SIGTERM blocked or ignored.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        port, log_path, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        key = base64.b64decode(secret[len("whsec_"):])
        counts, lock = {}, threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with lock:
                    n = counts.get(self.path, 0) + 1
                    counts[self.path] = n
                msg_id = self.headers.get("webhook-id")
                signed = "%s.%s." % (msg_id, self.headers.get("webhook-timestamp"))
                mac = hmac.new(key, signed.encode() + body, hashlib.sha256).digest()
                expected = "v1," + base64.b64encode(mac).decode()
                offered = self.headers.get("webhook-signature", "").split(" ")
                verified = any(hmac.compare_digest(expected, s) for s in offered)
                entry = {"path": self.path, "n": n, "verified": verified,
                         "headers": {k.lower(): v for k, v in self.headers.items()},
                         "body": base64.b64encode(body).decode()}
                with lock:
                    with open(log_path, "a") as f:
                        f.write(json.dumps(entry) + "\n")
                parts = self.path.strip("/").split("/")
                status, extra = 200, {}
                if parts[0] == "flaky":
                    status = 500 if n <= int(parts[1]) else 200
                elif parts[0] == "status":
                    status = int(parts[1])
                    if len(parts) > 2:
                        extra["Retry-After"] = parts[2]
                elif parts[0] == "redirect":
                    status, extra["Location"] = 302, "/ok/redirected"
                elif parts[0] == "sleep":
                    time.sleep(float(parts[1]))
                elif parts[0] == "hang-first" and n == 1:
                    time.sleep(float(parts[1]))
                elif parts[0] == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    try:
                        for _ in range(100000):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except Exception:
                        pass
                    return
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # a refused TLS handshake is an expected outcome in the tests

        server = Server(("127.0.0.1", port), Handler)
        if len(sys.argv) > 5:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[4], sys.argv[5])
            server.socket = context.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#
}
