"""A small HTTP/1.1 client over raw sockets, for tests that must control every byte.

It sends exactly the bytes it is given and parses responses strictly enough to notice a
server that frames them wrongly: a status line, header fields, then a body delimited by
Content-Length, chunked coding, or the end of the connection.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

CRLF = b"\r\n"


class ProtocolError(AssertionError):
    """The server sent something that is not a well-formed HTTP/1.1 response."""


class ConnectionClosed(AssertionError):
    """The server closed the connection before a complete response arrived."""


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first field value named `name` (case-insensitive), or None."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [v for k, v in self.headers if k.lower() == lowered]

    def tokens(self, name: str) -> set[str]:
        """The comma-separated tokens of every field named `name`, lowercased."""
        return {
            token.strip().lower()
            for value in self.header_all(name)
            for token in value.split(",")
            if token.strip()
        }

    @property
    def closes(self) -> bool:
        return "close" in self.tokens("connection")


def build_request(method: str = "GET", target: str = "/healthz",
                  headers: list[tuple[str, str]] | None = None, body: bytes = b"",
                  version: str = "HTTP/1.1", host: str | None = "localhost") -> bytes:
    """Request bytes; Host comes first unless `host` is None, Content-Length is not added."""
    lines = [f"{method} {target} {version}".encode()]
    if host is not None:
        lines.append(f"Host: {host}".encode())
    for name, value in headers or []:
        lines.append(f"{name}: {value}".encode())
    return CRLF.join(lines) + CRLF + CRLF + body


class RawConnection:
    """One TCP connection with a read buffer; every read has a deadline."""

    def __init__(self, address: tuple[str, int], timeout: float = 5.0):
        self.timeout = timeout
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str = "GET", target: str = "/healthz",
                headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> Response:
        """Sends one request (adding Content-Length when there is a body) and reads its answer."""
        headers = list(headers or [])
        if body:
            headers.append(("Content-Length", str(len(body))))
        self.send(build_request(method, target, headers, body))
        return self.read_response(head=(method == "HEAD"))

    # Reading

    def _fill(self, deadline: float) -> bool:
        """Reads more bytes into the buffer; False at end of stream."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete response before the deadline")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as error:
            raise TimeoutError("no complete response before the deadline") from error
        except ConnectionResetError:
            return False
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _read_line(self, deadline: float, limit: int = 1 << 20) -> bytes:
        while True:
            index = self.buffer.find(CRLF)
            if index >= 0:
                line, self.buffer = self.buffer[:index], self.buffer[index + 2:]
                return line
            if len(self.buffer) > limit:
                raise ProtocolError("response line too long")
            if not self._fill(deadline):
                raise ConnectionClosed(f"connection closed mid-line: {self.buffer[:200]!r}")

    def _read_exact(self, count: int, deadline: float) -> bytes:
        while len(self.buffer) < count:
            if not self._fill(deadline):
                raise ConnectionClosed(
                    f"connection closed after {len(self.buffer)} of {count} body bytes")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_response(self, head: bool = False, timeout: float | None = None) -> Response:
        """Reads one response, interim (1xx) ones included; `head` means no body follows."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        status_line = self._read_line(deadline)
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"bad status line {status_line!r}")
        version, status = parts[0].decode(), int(parts[1])
        reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
        headers = self._read_fields(deadline)
        response = Response(version, status, reason, headers, b"")
        if head or status < 200 or status in (204, 304):
            return response
        response.body = self._read_body(response, deadline)
        return response

    def _read_fields(self, deadline: float) -> list[tuple[str, str]]:
        fields = []
        while True:
            line = self._read_line(deadline)
            if not line:
                return fields
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError(f"bad header line {line!r}")
            fields.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))

    def _read_body(self, response: Response, deadline: float) -> bytes:
        if "chunked" in response.tokens("transfer-encoding"):
            return self._read_chunked(deadline)
        lengths = response.header_all("content-length")
        if lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit():
                raise ProtocolError(f"bad Content-Length {lengths!r}")
            return self._read_exact(int(lengths[0]), deadline)
        while self._fill(deadline):
            pass
        data, self.buffer = self.buffer, b""
        return data

    def _read_chunked(self, deadline: float) -> bytes:
        body = b""
        while True:
            size_line = self._read_line(deadline).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as error:
                raise ProtocolError(f"bad chunk size {size_line!r}") from error
            if size == 0:
                self._read_fields(deadline)  # trailers
                return body
            body += self._read_exact(size, deadline)
            if self._read_line(deadline):
                raise ProtocolError("chunk not followed by CRLF")

    def wait_closed(self, timeout: float) -> bytes | None:
        """Waits for the server to close; returns the bytes it sent meanwhile.

        None means the connection was still open after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except TimeoutError:
            return None
        data, self.buffer = self.buffer, b""
        return data
