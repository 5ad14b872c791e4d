"""Starting and watching a real phigate process for black-box tests.

The binary comes from $PHIGATE_BIN (`make test` sets it to the debug build); without it
the default is .build/debug/phigate under the repository root. Each server gets a fresh
temporary data directory, listens on an ephemeral loopback port, and is configured only
through the environment given here: PHIGATE_* variables of the calling shell are dropped
so that a developer's settings cannot change what the tests see.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# A debug build starts slowly, and the first start may also create a database.
STARTUP_TIMEOUT = 60.0


def phigate_bin() -> str:
    """The phigate executable under test; fails the test run when it is missing."""
    path = os.environ.get("PHIGATE_BIN") or str(REPO_ROOT / ".build" / "debug" / "phigate")
    if not os.access(path, os.X_OK):
        pytest.fail(f"phigate binary not found at {path}: build it or set PHIGATE_BIN")
    return path


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any PHIGATE_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIGATE_")}
    env.update(extra or {})
    return env


class LogCapture:
    """Drains a process's output stream in a thread, keeping every line.

    Lines that parse as JSON objects are also kept as dicts in `records`; the server logs
    JSON lines on stderr, anything else (a crash message) stays visible in `lines`.
    """

    def __init__(self, stream, name: str):
        self.lines: list[str] = []
        self.records: list[dict] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._drain, args=(stream,), name=name,
                                        daemon=True)
        self._thread.start()

    def _drain(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            record = None
            try:
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    record = parsed
            except ValueError:
                pass
            with self._cond:
                self.lines.append(line)
                if record is not None:
                    self.records.append(record)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float) -> dict | None:
        """Waits until a record satisfies `predicate`; None on timeout or end of stream."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for record in self.records[seen:]:
                    if predicate(record):
                        return record
                seen = len(self.records)
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def text(self) -> str:
        with self._cond:
            return "\n".join(self.lines)


@dataclass
class Server:
    """A running phigate: where it listens, its process, and what it has logged."""

    proc: subprocess.Popen
    host: str
    port: int
    data_dir: str
    stderr: LogCapture
    stdout: LogCapture
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def log_lines(self) -> list[str]:
        return self.stderr.lines

    @property
    def log_records(self) -> list[dict]:
        return self.stderr.records

    def url(self, path: str) -> str:
        return self.base_url + path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """The exit status, waiting up to `timeout` seconds (TimeoutExpired otherwise)."""
        code = self.proc.wait(timeout)
        self.stderr.join()
        self.stdout.join()
        return code

    def stop(self) -> None:
        """Ends the process for good: SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.stderr.join()
        self.stdout.join()


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def start_server(env: dict[str, str] | None = None, args: list[str] | None = None,
                 data_dir: str | None = None) -> Server:
    """Starts `phigate serve` and returns once it logs "server.listening".

    `env` adds to (or overrides) the defaults: loopback port 0, a fresh data directory
    and no demo data. `args` follows `serve` (for example ["--config", path]). Raises
    AssertionError with the captured output when the process exits or stays silent.
    """
    data_dir = data_dir or tempfile.mkdtemp(prefix="phigate-interop-")
    defaults = {
        "PHIGATE_LISTEN": "127.0.0.1:0",
        "PHIGATE_DATA_DIR": data_dir,
        "PHIGATE_DEMO": "false",
    }
    full_env = clean_environment({**defaults, **(env or {})})
    proc = subprocess.Popen(
        [phigate_bin(), "serve", *(args or [])],
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stderr = LogCapture(proc.stderr, "phigate-stderr")
    stdout = LogCapture(proc.stdout, "phigate-stdout")
    listening = stderr.wait_for(
        lambda r: r.get("msg") == "server.listening" and "http.address" in r,
        STARTUP_TIMEOUT,
    )
    if listening is None:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        stderr.join()
        raise AssertionError(
            "phigate did not log server.listening with http.address "
            f"(exit status {proc.returncode}); stderr:\n{stderr.text()}"
        )
    host, port = parse_address(str(listening["http.address"]))
    return Server(proc, host, port, data_dir, stderr, stdout, full_env)


class ServerFactory:
    """Starts servers on demand and stops every one of them at teardown."""

    def __init__(self):
        self.servers: list[Server] = []

    def __call__(self, env: dict[str, str] | None = None, args: list[str] | None = None,
                 data_dir: str | None = None) -> Server:
        server = start_server(env, args, data_dir)
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in self.servers:
            server.stop()
            shutil.rmtree(server.data_dir, ignore_errors=True)
