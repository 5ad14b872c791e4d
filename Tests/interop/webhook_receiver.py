"""A local webhook receiver for interop tests: records every delivery, can fail or go away."""

from __future__ import annotations

import http.server
import socket
import threading
import time


class Receiver:
    """Listens on 127.0.0.1:<port>; `status` is what it answers (200 by default)."""

    def __init__(self, port: int = 0, certfile: str | None = None, keyfile: str | None = None):
        self.certfile, self.keyfile = certfile, keyfile
        self.deliveries: list[dict] = []
        self.status = 200
        self._lock = threading.Condition()
        self.port = port or free_port()
        self._server = None
        self.start()

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.deliveries.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                                "body": body, "at": time.monotonic(), "status": receiver.status})
                    receiver._lock.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.certfile:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certfile, self.keyfile)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        scheme = "https" if self.certfile else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hook"

    def accepted(self, event_type: str | None = None) -> list[dict]:
        with self._lock:
            return [d for d in self.deliveries if d["status"] < 300
                    and (event_type is None or f'"type":"{event_type}"'.encode() in d["body"])]

    def wait_for(self, event_type: str, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [d for d in self.deliveries if d["status"] < 300
                         and f'"type":"{event_type}"'.encode() in d["body"]]
                if len(found) >= count or time.monotonic() >= deadline:
                    return found
                self._lock.wait(max(0.01, deadline - time.monotonic()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
