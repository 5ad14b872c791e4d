"""HTTP/1.1 over raw sockets: framing, persistence, pipelining and hostile input."""

from __future__ import annotations

import email.utils
import json
import socket
import time

import pytest

from rawhttp import RawConnection, build_request

MAX_REQUEST_LINE = 2048
MAX_HEADER_BYTES = 8192
MAX_HEADER_COUNT = 50
MAX_BODY = 65536

SERVER_ENV = {
    "PHIGATE_HTTP_MAX_REQUEST_LINE_BYTES": str(MAX_REQUEST_LINE),
    "PHIGATE_HTTP_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
    "PHIGATE_HTTP_MAX_HEADER_COUNT": str(MAX_HEADER_COUNT),
    "PHIGATE_HTTP_MAX_BODY_BYTES": str(MAX_BODY),
}


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem with `status`, tied to its request id."""
    assert response.status == status, (response.status, response.body[:300])
    content_type = response.header("content-type") or ""
    assert content_type.split(";")[0].strip() == "application/problem+json", content_type
    problem = json.loads(response.body)
    for key in ("type", "title", "status", "detail", "request_id"):
        assert key in problem, (key, problem)
    assert problem["status"] == status
    assert problem["request_id"] == response.header("x-request-id")
    return problem


def assert_closed_after(conn: RawConnection, response, timeout: float = 3.0) -> None:
    """The server announced Connection: close and then closed without sending more."""
    assert response.closes, response.headers
    rest = conn.wait_closed(timeout)
    assert rest is not None, "server kept the connection open after an error"
    assert rest == b"", f"server sent more after the error response: {rest[:200]!r}"


def head_of(*lines: str) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode("latin-1") + b"\r\n"


# Each row: the exact bytes of one request, and the status or statuses it must get.
# Rows that carry a second request after the first check that nothing is smuggled.
HOSTILE = [
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Content-Length: 5",
                "Transfer-Encoding: chunked") + b"0\r\n\r\n",
        400, id="content-length-and-transfer-encoding"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Content-Length: 4",
                "Transfer-Encoding: chunked")
        + b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        400, id="content-length-and-chunked-smuggling"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Content-Length: 5",
                "Content-Length: 6") + b"hello!",
        400, id="differing-content-lengths"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Content-Length: 5, 6") + b"hello!",
        400, id="differing-content-length-list"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Content-Length: five") + b"hello",
        400, id="content-length-not-a-number"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Content-Length: -1"),
        400, id="content-length-negative"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Content-Length: +5") + b"hello",
        400, id="content-length-plus-sign"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: chunked")
        + b"zz\r\nhello\r\n0\r\n\r\n",
        400, id="chunk-size-not-hex"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: chunked")
        + b"0x5\r\nhello\r\n0\r\n\r\n",
        400, id="chunk-size-0x-prefix"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: chunked")
        + b"-5\r\nhello\r\n0\r\n\r\n",
        400, id="chunk-size-negative"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: chunked")
        + b"5\r\nhelloXX0\r\n\r\n",
        400, id="chunk-data-not-followed-by-crlf"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X-Test : 1"),
        400, id="whitespace-before-colon"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host : a"),
        400, id="whitespace-before-colon-in-host"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X-Test: one", " two"),
        400, id="obs-fold-space"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X-Test: one", "\ttwo"),
        400, id="obs-fold-tab"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X-Test: a\rb"),
        400, id="bare-cr-in-field-value"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X-Test: a\x00b"),
        400, id="nul-in-field-value"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X\x00Test: 1"),
        400, id="nul-in-field-name"),
    pytest.param(
        head_of("G@T /healthz HTTP/1.1", "Host: a"),
        400, id="method-not-a-token"),
    pytest.param(
        head_of("GET\t/healthz HTTP/1.1", "Host: a"),
        400, id="tab-between-method-and-target"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X@Test: 1"),
        400, id="field-name-not-a-token"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X Test: 1"),
        400, id="field-name-with-space"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", ": no-name"),
        400, id="field-name-empty"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "X-Test-No-Colon"),
        400, id="field-line-without-colon"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1"),
        400, id="missing-host-in-1.1"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1", "Host: a", "Host: b"),
        400, id="repeated-host"),
    pytest.param(
        head_of("GET healthz HTTP/1.1", "Host: a"),
        400, id="target-not-origin-form"),
    pytest.param(
        head_of("GET /health z HTTP/1.1", "Host: a"),
        400, id="space-in-target"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1 extra", "Host: a"),
        400, id="request-line-with-four-parts"),
    # Without chunked last the body length is unknowable: RFC 9112 6.3 demands 400, and
    # 6.1 suggests 501 for the unknown coding; either refuses the request.
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: foo")
        + b"hello",
        (400, 501), id="unknown-transfer-coding-alone"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: foo, chunked")
        + b"5\r\nhello\r\n0\r\n\r\n",
        501, id="unknown-transfer-coding-before-chunked"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: gzip",
                "Transfer-Encoding: chunked")
        + b"5\r\nhello\r\n0\r\n\r\n",
        501, id="unsupported-coding-in-a-second-field"),
    pytest.param(
        head_of("POST /healthz HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, chunked")
        + b"5\r\nhello\r\n0\r\n\r\n",
        400, id="chunked-applied-twice"),
    pytest.param(
        head_of("GET /healthz HTTP/2.0", "Host: a"),
        505, id="http-2.0"),
    pytest.param(
        head_of("GET /healthz HTTP/1.2", "Host: a"),
        505, id="http-1.2"),
    pytest.param(
        head_of("GET /healthz http/1.1", "Host: a"),
        (400, 505), id="lowercase-protocol-name"),
    pytest.param(
        head_of("GET /healthz HTTP/1.1x", "Host: a"),
        (400, 505), id="version-with-trailing-garbage"),
]


@pytest.mark.parametrize("request_bytes, expected", HOSTILE)
def test_hostile_request_is_refused_and_the_connection_closed(server, request_bytes,
                                                              expected):
    with RawConnection(server.address) as conn:
        conn.send(request_bytes)
        response = conn.read_response()
        statuses = expected if isinstance(expected, tuple) else (expected,)
        assert response.status in statuses, (response.status, response.body[:300])
        assert_problem(response, response.status)
        assert_closed_after(conn, response)


def test_server_still_serves_after_the_hostile_table(server):
    with RawConnection(server.address) as conn:
        assert conn.request("GET", "/healthz").status == 200


# Limits


def test_request_line_just_under_the_limit_is_served(server):
    target = "/healthz?pad=" + "a" * (MAX_REQUEST_LINE - 200)
    with RawConnection(server.address) as conn:
        response = conn.request("GET", target)
        assert response.status == 200, response.body[:300]


def test_request_line_over_the_limit_gets_414(server):
    target = "/healthz?pad=" + "a" * (MAX_REQUEST_LINE * 2)
    with RawConnection(server.address) as conn:
        conn.send(build_request("GET", target))
        response = conn.read_response()
        assert_problem(response, 414)
        assert_closed_after(conn, response)


def test_header_section_under_the_limit_is_served(server):
    headers = [(f"X-Pad-{i}", "v" * 200) for i in range(20)]  # about 4.4 KB
    with RawConnection(server.address) as conn:
        assert conn.request("GET", "/healthz", headers).status == 200


def test_header_section_over_the_limit_gets_431(server):
    headers = [(f"X-Pad-{i}", "v" * 400) for i in range(30)]  # about 12.5 KB
    with RawConnection(server.address) as conn:
        conn.send(build_request("GET", "/healthz", headers))
        response = conn.read_response()
        assert_problem(response, 431)
        assert_closed_after(conn, response)


def test_one_huge_header_field_gets_431(server):
    with RawConnection(server.address) as conn:
        conn.send(build_request("GET", "/healthz", [("X-Huge", "v" * (MAX_HEADER_BYTES * 4))]))
        response = conn.read_response()
        assert_problem(response, 431)
        assert_closed_after(conn, response)


def test_field_count_under_the_limit_is_served(server):
    headers = [(f"X-F{i}", "1") for i in range(MAX_HEADER_COUNT - 10)]
    with RawConnection(server.address) as conn:
        assert conn.request("GET", "/healthz", headers).status == 200


def test_too_many_fields_get_431(server):
    headers = [(f"X-F{i}", "1") for i in range(MAX_HEADER_COUNT + 10)]
    with RawConnection(server.address) as conn:
        conn.send(build_request("GET", "/healthz", headers))
        response = conn.read_response()
        assert_problem(response, 431)
        assert_closed_after(conn, response)


def test_declared_body_over_the_limit_gets_413_before_the_body_is_sent(server):
    headers = [("Content-Length", str(MAX_BODY * 4)), ("Content-Type", "application/json")]
    with RawConnection(server.address) as conn:
        conn.send(build_request("POST", "/healthz", headers))  # the head only
        response = conn.read_response(timeout=3.0)
        assert_problem(response, 413)
        assert_closed_after(conn, response)


def test_chunked_body_over_the_limit_gets_413(server):
    with RawConnection(server.address) as conn:
        conn.send(build_request("POST", "/healthz", [("Transfer-Encoding", "chunked")]))
        chunk = b"%x\r\n%s\r\n" % (8192, b"x" * 8192)
        try:
            for _ in range(MAX_BODY // 8192 + 4):
                conn.send(chunk)
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close while the body is still arriving
        response = conn.read_response()
        assert_problem(response, 413)
        assert response.closes


def test_body_within_the_limit_is_read_and_the_connection_kept(server):
    body = b"x" * (MAX_BODY - 1)
    with RawConnection(server.address) as conn:
        response = conn.request("POST", "/healthz", [("Content-Type", "text/plain")], body)
        assert_problem(response, 405)
        assert not response.closes
        assert conn.request("GET", "/healthz").status == 200


# Persistence and pipelining


def test_five_hundred_requests_on_one_keep_alive_connection(server):
    with RawConnection(server.address) as conn:
        for i in range(500):
            response = conn.request("GET", "/healthz", [("X-Request-Id", f"ka-{i}")])
            assert response.status == 200
            assert response.header("x-request-id") == f"ka-{i}"
            assert json.loads(response.body) == {"status": "ok"}
            assert not response.closes


def test_fifty_pipelined_requests_are_answered_in_order(server):
    routes = [("/healthz", 200), ("/readyz", 200), ("/no-such-path", 404), ("/metrics", 200)]
    expected = []
    payload = b""
    for i in range(50):
        path, status = routes[i % len(routes)]
        payload += build_request("GET", path, [("X-Request-Id", f"pipe-{i}")])
        expected.append((f"pipe-{i}", status))
    with RawConnection(server.address, timeout=10.0) as conn:
        conn.send(payload)
        for request_id, status in expected:
            response = conn.read_response()
            assert (response.header("x-request-id"), response.status) == (request_id, status)
        assert conn.request("GET", "/healthz").status == 200


def test_pipelined_requests_with_bodies_keep_their_boundaries(server):
    payload = (
        build_request("POST", "/healthz", [("Content-Length", "11"), ("X-Request-Id", "p1")],
                      b"GET / HTTP/")
        + build_request("POST", "/healthz", [("Transfer-Encoding", "chunked"),
                                            ("X-Request-Id", "p2")],
                        b"4\r\nGET \r\n0\r\n\r\n")
        + build_request("GET", "/healthz", [("X-Request-Id", "p3")])
    )
    with RawConnection(server.address) as conn:
        conn.send(payload)
        answers = [conn.read_response() for _ in range(3)]
        assert [(r.header("x-request-id"), r.status) for r in answers] == [
            ("p1", 405), ("p2", 405), ("p3", 200)]


def test_request_split_into_single_bytes_is_parsed(server):
    data = build_request("GET", "/healthz", [("X-Request-Id", "bytewise")])
    with RawConnection(server.address) as conn:
        for i in range(len(data)):
            conn.send(data[i:i + 1])
            time.sleep(0.001)
        response = conn.read_response()
        assert (response.status, response.header("x-request-id")) == (200, "bytewise")


def test_connection_close_is_honoured(server):
    with RawConnection(server.address) as conn:
        response = conn.request("GET", "/healthz", [("Connection", "close")])
        assert response.status == 200
        assert_closed_after(conn, response)


def test_http_1_0_without_host_is_served_and_closed(server):
    with RawConnection(server.address) as conn:
        conn.send(build_request("GET", "/healthz", version="HTTP/1.0", host=None))
        response = conn.read_response()
        assert response.status == 200
        assert json.loads(response.body) == {"status": "ok"}
        rest = conn.wait_closed(3.0)
        assert rest == b"", "HTTP/1.0 connection without keep-alive was not closed"


def test_http_1_0_keep_alive_is_honoured(server):
    with RawConnection(server.address) as conn:
        for _ in range(3):
            conn.send(build_request("GET", "/healthz", [("Connection", "keep-alive")],
                                    version="HTTP/1.0"))
            response = conn.read_response()
            assert response.status == 200
            assert response.header("content-length") is not None
            assert "keep-alive" in response.tokens("connection")


def test_wrong_method_consumes_the_body_and_keeps_the_connection(server):
    with RawConnection(server.address) as conn:
        response = conn.request("POST", "/healthz", [("Content-Type", "application/json")],
                                b'{"not": "wanted"}')
        assert_problem(response, 405)
        assert "GET" in {m.upper() for m in response.tokens("allow")}
        assert not response.closes
        assert conn.request("GET", "/healthz").status == 200


def test_expect_100_continue_gets_an_interim_response(server):
    body = b'{"hello": "world"}'
    with RawConnection(server.address) as conn:
        conn.send(build_request("POST", "/healthz", [
            ("Content-Length", str(len(body))),
            ("Expect", "100-continue"),
            ("Content-Type", "application/json"),
        ]))
        interim = conn.read_response(timeout=3.0)
        assert (interim.version, interim.status) == ("HTTP/1.1", 100), interim
        conn.send(body)
        final = conn.read_response()
        assert_problem(final, 405)
        assert conn.request("GET", "/healthz").status == 200


def test_chunked_body_with_extensions_and_trailers_is_accepted(server):
    body = (b"5;name=value\r\nhello\r\n"
            b"6\r\n world\r\n"
            b"0\r\n"
            b"X-Checksum: abc\r\n"
            b"X-Other: 1\r\n"
            b"\r\n")
    with RawConnection(server.address) as conn:
        conn.send(build_request("POST", "/healthz", [("Transfer-Encoding", "chunked")], body))
        assert_problem(conn.read_response(), 405)
        assert conn.request("GET", "/healthz").status == 200


def test_responses_carry_date_and_exact_length(server):
    with RawConnection(server.address) as conn:
        response = conn.request("GET", "/healthz")
        date = response.header("date")
        assert date is not None
        assert email.utils.parsedate_to_datetime(date) is not None
        assert response.header_all("content-length") == [str(len(response.body))]


def test_client_half_close_after_request_still_gets_the_answer(server):
    with RawConnection(server.address) as conn:
        conn.send(build_request("GET", "/healthz", [("Connection", "close")]))
        conn.sock.shutdown(socket.SHUT_WR)
        response = conn.read_response()
        assert response.status == 200
