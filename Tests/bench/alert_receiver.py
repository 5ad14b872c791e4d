"""A local webhook receiver for the break-glass benchmark.

Listens on 127.0.0.1:PORT and records every POST: its arrival time (time.monotonic(), taken
as soon as the whole body has been read, before the answer is written), headers and body.
It answers 200 with an empty body and checks nothing itself: verifying the Standard Webhooks
signature is the caller's job, so that the arrival time does not include it.
"""

from __future__ import annotations

import http.server
import threading
import time


class AlertReceiver:
    """Records deliveries until stopped; `wait_until` blocks on new ones."""

    def __init__(self, port: int):
        self.deliveries: list[dict] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                arrived = time.monotonic()
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._changed:
                    receiver.deliveries.append(
                        {"at": arrived, "path": self.path, "headers": headers, "body": body})
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_until(self, predicate, timeout: float) -> list[dict]:
        """Waits until `predicate(deliveries)` is true or `timeout` seconds pass.

        Returns a snapshot of every delivery so far, whichever happened first.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return list(self.deliveries)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
