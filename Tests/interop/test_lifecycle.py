"""The process: command line, configuration errors, signals and shutdown."""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import time

import pytest
import requests

from phigate_process import clean_environment, phigate_bin
from rawhttp import ConnectionClosed, RawConnection, build_request

WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
COMMAND_TIMEOUT = 30  # generous: a debug build refuses a bad configuration in well under 1 s


def run_phigate(args: list[str], env: dict[str, str] | None = None, tmp_path=None,
                inherit_defaults: bool = True) -> subprocess.CompletedProcess:
    """Runs phigate to completion; a `serve` that does not stop in time fails the test.

    With `inherit_defaults` the environment selects port 0, no demo data and a data
    directory under `tmp_path`, so that a server that wrongly starts harms nothing.
    """
    base = {}
    if inherit_defaults:
        base = {"PHIGATE_DEMO": "false", "PHIGATE_LISTEN": "127.0.0.1:0"}
        if tmp_path is not None:
            base["PHIGATE_DATA_DIR"] = str(tmp_path / "data")
    try:
        return subprocess.run([phigate_bin(), *args],
                              env=clean_environment({**base, **(env or {})}),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"phigate {' '.join(args)} still running after "
                             f"{COMMAND_TIMEOUT} s: {error.stderr!r}") from None


# Command line


def test_version_prints_the_name_and_exits_zero():
    result = run_phigate(["--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("phigate "), result.stdout


def test_help_mentions_serve_and_exits_zero():
    result = run_phigate(["--help"])
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout


def test_serve_help_describes_the_config_option():
    result = run_phigate(["serve", "--help"])
    assert result.returncode == 0, result.stderr
    assert "--config" in result.stdout


def test_unknown_command_fails():
    result = run_phigate(["no-such-command"])
    assert result.returncode != 0
    assert "no-such-command" in result.stderr


# Invalid configuration


def assert_refused_naming(result: subprocess.CompletedProcess, key: str) -> None:
    assert result.returncode != 0, "phigate started with an invalid configuration"
    assert "server.listening" not in result.stderr
    assert key in result.stderr, result.stderr


@pytest.mark.parametrize("variable, value, key", [
    ("PHIGATE_HTTP_MAX_HEADER_BYTES", "banana", "http.max_header_bytes"),
    ("PHIGATE_HTTP_MAX_HEADER_BYTES", "-1", "http.max_header_bytes"),
    ("PHIGATE_HTTP_IDLE_TIMEOUT_SECONDS", "-1", "http.idle_timeout_seconds"),
    ("PHIGATE_HTTP_HEADER_TIMEOUT_SECONDS", "ten", "http.header_timeout_seconds"),
    ("PHIGATE_HTTP_BODY_TIMEOUT_SECONDS", "1.5.0", "http.body_timeout_seconds"),
    ("PHIGATE_HTTP_MAX_BODY_BYTES", "12abc", "http.max_body_bytes"),
    ("PHIGATE_HTTP_MAX_CONNECTIONS", "-5", "http.max_connections"),
    ("PHIGATE_HTTP_MAX_HEADER_COUNT", "many", "http.max_header_count"),
    ("PHIGATE_HTTP_MAX_REQUEST_LINE_BYTES", "-3", "http.max_request_line_bytes"),
    ("PHIGATE_HTTP_SHUTDOWN_GRACE_SECONDS", "soon", "http.shutdown_grace_seconds"),
    ("PHIGATE_LISTEN", "not-an-address", "listen"),
    ("PHIGATE_LISTEN", "127.0.0.1:99999", "listen"),
    ("PHIGATE_DEMO", "maybe", "demo"),
    ("PHIGATE_WEBHOOKS", json.dumps([{"url": "http://127.0.0.1:9996/x", "secret": WEBHOOK_SECRET,
                                      "events": ["break_glass.activate"]}]), "webhooks[0].events"),
    ("PHIGATE_WEBHOOKS", json.dumps([{"url": "http://127.0.0.1:9996/x", "secret": WEBHOOK_SECRET,
                                      "events": ["breakglass.*"]}]), "webhooks[0].events"),
])
def test_invalid_environment_value_is_refused_naming_the_key(tmp_path, variable, value,
                                                              key):
    result = run_phigate(["serve"], {variable: value}, tmp_path)
    assert_refused_naming(result, key)


def test_a_misspelt_environment_variable_is_named_in_a_warning(tmp_path):
    result = run_phigate(["user", "list"], env={"PHIGATE_DATA_DIRR": "/secret/value"}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "PHIGATE_DATA_DIRR names no setting" in result.stderr
    assert "/secret/value" not in result.stderr
    quiet = run_phigate(["user", "list"], env={"PHIGATE_LOG_LEVEL": "info"}, tmp_path=tmp_path)
    assert "warning" not in quiet.stderr, quiet.stderr


@pytest.mark.parametrize("document, key", [
    ({"http": {"idle_timeout_seconds": -1}}, "http.idle_timeout_seconds"),
    ({"http": {"max_header_bytes": "8192"}}, "http.max_header_bytes"),
    ({"http": {"max_body_bytes": 1.5}}, "http.max_body_bytes"),
    ({"http": {"idle_timeout_secs": 5}}, "http.idle_timeout_secs"),
    ({"listne": "127.0.0.1:0"}, "listne"),
    ({"http": 5}, "http"),
    ({"demo": "yes"}, "demo"),
    ({"webhooks": [{"url": "http://127.0.0.1:9996/x", "secret": WEBHOOK_SECRET, "events": ["auth.lockouts"]}]},
     "webhooks[0].events"),
])
def test_invalid_config_file_is_refused_naming_the_key(tmp_path, document, key):
    # A valid base, so only the key under test is wrong, and no environment variable that
    # would override it.
    base = {"listen": "127.0.0.1:0", "data_dir": str(tmp_path / "data"), "demo": False}
    path = tmp_path / "phigate.json"
    path.write_text(json.dumps({**base, **document}))
    result = run_phigate(["serve", "--config", str(path)], inherit_defaults=False)
    assert_refused_naming(result, key)


def test_config_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "phigate.json"
    path.write_text('{"listen": "127.0.0.1:0",')
    result = run_phigate(["serve", "--config", str(path)], tmp_path=tmp_path)
    assert result.returncode != 0
    assert "server.listening" not in result.stderr


def test_missing_config_file_is_refused(tmp_path):
    result = run_phigate(["serve", "--config", str(tmp_path / "absent.json")],
                         tmp_path=tmp_path)
    assert result.returncode != 0
    assert "server.listening" not in result.stderr


def test_config_file_is_applied_and_the_environment_overrides_it(tmp_path, server_factory):
    path = tmp_path / "phigate.json"
    path.write_text(json.dumps({
        "listen": "127.0.0.1:9",
        "demo": False,
        "http": {"max_header_count": 10},
    }))
    server = server_factory({"PHIGATE_LISTEN": "127.0.0.1:0"}, ["--config", str(path)])
    assert server.port != 9
    with RawConnection(server.address) as conn:
        assert conn.request("GET", "/healthz", [("X-A", "1")] * 3).status == 200
    with RawConnection(server.address) as conn:
        conn.send(build_request("GET", "/healthz", [(f"X-{i}", "1") for i in range(20)]))
        assert conn.read_response().status == 431


# Signals and shutdown


def new_connection_is_refused(server) -> bool:
    """True when a new client cannot get a request served."""
    try:
        conn = RawConnection(server.address, timeout=2.0)
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    with conn:
        try:
            conn.send(build_request("GET", "/healthz"))
            response = conn.read_response(timeout=2.0)
        except (BrokenPipeError, ConnectionResetError, ConnectionClosed, TimeoutError):
            return True
        return response.status == 503


def test_sigterm_lets_an_in_flight_upload_finish_then_exits_zero(server_factory):
    server = server_factory({"PHIGATE_HTTP_SHUTDOWN_GRACE_SECONDS": "20",
                             "PHIGATE_HTTP_BODY_TIMEOUT_SECONDS": "20"})
    body = b'{"data": "' + b"x" * 2000 + b'"}'
    with RawConnection(server.address, timeout=10) as conn:
        conn.send(build_request("POST", "/healthz", [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Request-Id", "in-flight"),
        ]) + body[:1000])
        time.sleep(0.3)
        server.signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.alive(), "the server exited with a request in flight"
        assert new_connection_is_refused(server), "a new connection was served after SIGTERM"

        conn.send(body[1000:])
        response = conn.read_response()
        assert (response.status, response.header("x-request-id")) == (405, "in-flight")
        assert response.closes, response.headers
        assert conn.wait_closed(5) == b""
    assert server.wait(10) == 0


def test_readyz_reports_not_ready_once_shutdown_has_begun(server_factory):
    server = server_factory({"PHIGATE_HTTP_SHUTDOWN_GRACE_SECONDS": "20"})
    with RawConnection(server.address) as conn:
        conn.send(b"GET /readyz HTTP/1.1\r\nHost: a\r\n")  # the head is not finished
        time.sleep(0.3)
        server.signal(signal.SIGTERM)
        time.sleep(0.5)
        conn.send(b"\r\n")
        response = conn.read_response()
        assert response.status == 503, (response.status, response.body)
        assert json.loads(response.body).get("status") != "ready"
        assert response.closes
    assert server.wait(10) == 0


def test_sigterm_closes_idle_connections_and_exits_promptly(server_factory):
    server = server_factory({"PHIGATE_HTTP_SHUTDOWN_GRACE_SECONDS": "20",
                             "PHIGATE_HTTP_IDLE_TIMEOUT_SECONDS": "60"})
    with RawConnection(server.address) as idle:
        assert idle.request("GET", "/healthz").status == 200
        start = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.wait(10) == 0
        assert time.monotonic() - start < 5
        assert idle.wait_closed(2) == b""


def test_sigterm_right_after_listening_is_not_lost(server_factory):
    """A supervisor may stop the gateway the moment it reports ready; the signal counts."""
    for attempt in range(20):  # the race hit about one start in ten when found
        server = server_factory()
        server.signal(signal.SIGTERM)
        try:
            code = server.wait(5)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"start {attempt + 1}: SIGTERM sent right after "
                                 "server.listening was ignored") from None
        assert code == 0


def test_sigint_exits_zero(server_factory):
    server = server_factory()
    assert requests.get(server.url("/healthz")).status_code == 200
    server.signal(signal.SIGINT)
    assert server.wait(10) == 0


def test_sighup_stops_gracefully_with_the_audit_log_closed(server_factory):
    server = server_factory()
    assert requests.get(server.url("/healthz")).status_code == 200
    server.signal(signal.SIGHUP)
    assert server.wait(10) == 0
    assert any(r.get("msg") == "server.stopped" for r in server.log_records)


def test_a_second_signal_cuts_the_grace_period_short(server_factory):
    server = server_factory({"PHIGATE_HTTP_SHUTDOWN_GRACE_SECONDS": "60",
                             "PHIGATE_HTTP_BODY_TIMEOUT_SECONDS": "60"})
    with RawConnection(server.address) as conn:
        conn.send(build_request("POST", "/healthz", [("Content-Length", "100")], b"x"))
        time.sleep(0.3)
        server.signal(signal.SIGINT)
        time.sleep(0.5)
        assert server.alive(), "the first signal waits for the request in flight"
        start = time.monotonic()
        server.signal(signal.SIGINT)
        assert server.wait(10) == 0
        assert time.monotonic() - start < 5
    assert any(r.get("msg") == "server.stopping_now" for r in server.log_records)
    assert any(r.get("msg") == "server.stopped" for r in server.log_records)


def test_grace_period_bounds_a_stuck_request(server_factory):
    server = server_factory({"PHIGATE_HTTP_SHUTDOWN_GRACE_SECONDS": "2",
                             "PHIGATE_HTTP_BODY_TIMEOUT_SECONDS": "60"})
    with RawConnection(server.address) as conn:
        conn.send(build_request("POST", "/healthz", [("Content-Length", "100")], b"x"))
        time.sleep(0.3)
        start = time.monotonic()
        server.signal(signal.SIGTERM)
        code = server.wait(10)
        elapsed = time.monotonic() - start
    assert 1.5 <= elapsed <= 6, f"exited {elapsed:.2f} s after SIGTERM with a 2 s grace"
    assert code >= 0, f"killed by signal {-code}"


def abort(sock: socket.socket) -> None:
    """Closes with a reset (SO_LINGER 0) so the server's next write fails."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_clients_vanishing_mid_response_do_not_kill_the_server(server_factory):
    server = server_factory()
    for _ in range(20):  # traffic so that /metrics is a sizeable body
        requests.get(server.url("/healthz"))
    pipelined = build_request("GET", "/metrics", [("Accept-Encoding", "identity")]) * 30
    for i in range(40):
        sock = socket.create_connection(server.address, timeout=5)
        sock.sendall(pipelined)
        if i % 2:
            sock.recv(1)
            abort(sock)
        else:
            sock.close()  # a FIN first; the reset follows the server's next write
    time.sleep(0.5)
    assert server.alive(), f"server died: {server.proc.returncode}"
    assert requests.get(server.url("/healthz")).status_code == 200
