"""Timeouts and connection limits: slow, idle and too many clients."""

from __future__ import annotations

import json
import select
import statistics
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from rawhttp import ConnectionClosed, RawConnection, build_request

SHORT = 1  # seconds: header, body and idle timeouts of the `server` fixture


@pytest.fixture(scope="module")
def server(server_factory):
    return server_factory({
        "PHIGATE_HTTP_HEADER_TIMEOUT_SECONDS": str(SHORT),
        "PHIGATE_HTTP_BODY_TIMEOUT_SECONDS": str(SHORT),
        "PHIGATE_HTTP_IDLE_TIMEOUT_SECONDS": str(SHORT),
    })


def read_until_closed(conn: RawConnection, timeout: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it sent before that."""
    start = time.monotonic()
    data = conn.wait_closed(timeout)
    assert data is not None, f"connection still open after {timeout} s"
    return time.monotonic() - start, data


def assert_408_or_nothing(data: bytes) -> None:
    if data:
        assert data.startswith(b"HTTP/1.1 408 "), data[:200]
        head = data.split(b"\r\n\r\n", 1)[0].lower()
        assert b"connection: close" in head, head


def test_stalled_header_section_times_out(server):
    with RawConnection(server.address) as conn:
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Part")
        elapsed, data = read_until_closed(conn, SHORT + 4)
        assert elapsed >= SHORT * 0.8, f"closed after only {elapsed:.2f} s"
        assert_408_or_nothing(data)


def test_dribbled_header_section_is_cut_at_the_deadline(server):
    """A client sending a byte now and then must not hold a connection forever."""
    data = build_request("GET", "/healthz", [(f"X-Slow-{i}", "x" * 20) for i in range(50)])
    with RawConnection(server.address) as conn:
        start = time.monotonic()
        received = b""
        closed_after = None
        for i in range(len(data)):
            try:
                conn.send(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - start
                break
            readable, _, _ = select.select([conn.sock], [], [], 0.2)
            if readable:
                try:
                    chunk = conn.sock.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                received += chunk
                if not chunk:
                    closed_after = time.monotonic() - start
                    break
            if time.monotonic() - start > SHORT + 5:
                break
        assert closed_after is not None, "a dribbling client kept its connection"
        assert closed_after <= SHORT + 3, f"cut only after {closed_after:.2f} s"
        assert_408_or_nothing(received)


def test_stalled_body_times_out(server):
    with RawConnection(server.address) as conn:
        conn.send(build_request("POST", "/healthz", [("Content-Length", "100")], b"x" * 10))
        elapsed, data = read_until_closed(conn, SHORT + 4)
        assert elapsed >= SHORT * 0.8, f"closed after only {elapsed:.2f} s"
        assert_408_or_nothing(data)


def test_idle_keep_alive_connection_is_closed_quietly(server):
    with RawConnection(server.address) as conn:
        assert conn.request("GET", "/healthz").status == 200
        elapsed, data = read_until_closed(conn, SHORT + 4)
        assert data == b"", f"idle close sent bytes: {data[:200]!r}"
        assert elapsed >= SHORT * 0.8, f"closed after only {elapsed:.2f} s"


def test_connection_that_never_sends_is_closed(server):
    with RawConnection(server.address) as conn:
        elapsed, data = read_until_closed(conn, SHORT + 4)
        assert elapsed >= SHORT * 0.8
        assert_408_or_nothing(data)


def test_busy_connection_outlives_the_idle_timeout(server):
    with RawConnection(server.address) as conn:
        start = time.monotonic()
        while time.monotonic() - start < SHORT * 3:
            assert conn.request("GET", "/healthz").status == 200
            time.sleep(SHORT / 4)


# Many slow clients


@pytest.fixture(scope="module")
def crowd_server(server_factory):
    return server_factory({
        "PHIGATE_HTTP_HEADER_TIMEOUT_SECONDS": "4",
        "PHIGATE_HTTP_IDLE_TIMEOUT_SECONDS": "4",
        "PHIGATE_HTTP_MAX_CONNECTIONS": "1000",
    })


def open_connections(server) -> float:
    text = requests.get(server.url("/metrics"), headers={"Accept-Encoding": "identity"}).text
    for family in text_string_to_metric_families(text):
        if family.name == "phigate_http_open_connections":
            return family.samples[0].value
    raise AssertionError("phigate_http_open_connections missing")


def test_three_hundred_slow_clients_do_not_starve_a_normal_one(crowd_server):
    slow = []
    try:
        for i in range(300):
            conn = RawConnection(crowd_server.address)
            conn.send(f"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow-{i}: ".encode())
            slow.append(conn)

        latencies = []
        for i in range(20):
            start = time.monotonic()
            response = requests.get(crowd_server.url("/healthz"), timeout=5)
            latencies.append(time.monotonic() - start)
            assert response.status_code == 200
        assert max(latencies) < 1.0, latencies
        assert statistics.median(latencies) < 0.25, latencies
        assert open_connections(crowd_server) >= 300

        deadline = time.monotonic() + 4 + 5
        for conn in slow:
            data = conn.wait_closed(max(0.1, deadline - time.monotonic()))
            assert data is not None, "a slow client outlived the header timeout"
            assert_408_or_nothing(data)
    finally:
        for conn in slow:
            conn.close()

    time.sleep(0.5)
    assert open_connections(crowd_server) < 10


# Connection cap

CAP = 16


@pytest.fixture(scope="module")
def capped_server(server_factory):
    return server_factory({
        "PHIGATE_HTTP_MAX_CONNECTIONS": str(CAP),
        "PHIGATE_HTTP_IDLE_TIMEOUT_SECONDS": "30",
        "PHIGATE_HTTP_HEADER_TIMEOUT_SECONDS": "30",
    })


def refused_or_served(server, timeout: float = 3.0) -> str:
    """What a new connection gets: "refused" (closed, possibly after a 503) or "served"."""
    try:
        conn = RawConnection(server.address, timeout=timeout)
    except (ConnectionRefusedError, ConnectionResetError):
        return "refused"
    with conn:
        try:
            conn.send(build_request("GET", "/healthz"))
            response = conn.read_response(timeout=timeout)
        except (BrokenPipeError, ConnectionResetError, ConnectionClosed):
            return "refused"
        except TimeoutError as error:
            raise AssertionError(
                f"a connection over the cap was neither refused nor answered in {timeout} s"
            ) from error
        if response.status == 503:
            # Still a response like any other: closing, a problem, a request id.
            assert response.closes, response.headers
            request_id = response.header("x-request-id")
            assert request_id, f"503 without X-Request-Id: {response.headers}"
            problem = json.loads(response.body)
            assert problem.get("request_id") == request_id, problem
            return "refused"
        assert response.status == 200, (response.status, response.body[:200])
        return "served"


def test_connections_beyond_the_cap_are_refused_and_the_slot_comes_back(capped_server):
    held = []
    try:
        for _ in range(CAP):
            conn = RawConnection(capped_server.address)
            assert conn.request("GET", "/healthz").status == 200
            held.append(conn)

        assert refused_or_served(capped_server) == "refused"
        assert refused_or_served(capped_server) == "refused"

        for conn in held:  # everyone inside is still served
            assert conn.request("GET", "/healthz").status == 200

        held.pop().close()
        deadline = time.monotonic() + 3
        outcome = "refused"
        while outcome == "refused" and time.monotonic() < deadline:
            time.sleep(0.1)
            outcome = refused_or_served(capped_server, timeout=1.0)
        assert outcome == "served", "a freed slot was not given to a new client"
    finally:
        for conn in held:
            conn.close()
