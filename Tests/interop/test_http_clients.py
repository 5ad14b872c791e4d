"""Real HTTP clients (curl, requests, httpx) against the operational endpoints."""

from __future__ import annotations

import gzip
import json
import re
import subprocess

import httpx
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

RANDOM_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


def media_type(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def metric_samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def scrape(server) -> list:
    response = requests.get(server.url("/metrics"))
    assert response.status_code == 200
    return metric_samples(response.text)


def sample_value(samples, name: str, **labels) -> float | None:
    for sample in samples:
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return None


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert media_type(response) == "application/problem+json"
    problem = response.json()
    assert set(problem) >= {"type", "title", "status", "detail", "request_id"}, problem
    assert problem["status"] == status
    assert problem["request_id"] == response.headers["x-request-id"]
    return problem


# Health endpoints

@pytest.mark.parametrize("path, body", [
    ("/healthz", {"status": "ok"}),
    ("/readyz", {"status": "ready"}),
])
def test_health_endpoints_with_requests(server, session, path, body):
    response = session.get(server.url(path))
    assert response.status_code == 200
    assert media_type(response) == "application/json"
    assert response.json() == body


@pytest.mark.parametrize("path, body", [
    ("/healthz", {"status": "ok"}),
    ("/readyz", {"status": "ready"}),
])
def test_health_endpoints_with_httpx(server, path, body):
    with httpx.Client(base_url=server.base_url) as client:
        response = client.get(path)
        assert response.http_version == "HTTP/1.1"
        assert response.status_code == 200
        assert media_type(response) == "application/json"
        assert response.json() == body


def test_httpx_reuses_one_connection_for_many_requests(server):
    before = sample_value(scrape(server), "phigate_http_open_connections")
    with httpx.Client(base_url=server.base_url) as client:
        for _ in range(200):
            assert client.get("/healthz").status_code == 200
        samples = metric_samples(client.get("/metrics").text)
    during = sample_value(samples, "phigate_http_open_connections")
    assert before is not None and during is not None
    # One more for the httpx client; a little slack for connections still closing.
    assert during <= before + 3, (before, during)


def test_curl_get_healthz(server):
    result = subprocess.run(
        ["curl", "--http1.1", "-sS", "-i", "--max-time", "10", server.url("/healthz")],
        capture_output=True, check=True, timeout=20)
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body) == {"status": "ok"}


def test_curl_expect_100_continue(server):
    body = b"x" * 2048
    result = subprocess.run(
        ["curl", "--http1.1", "-sS", "-v", "--max-time", "10", "-o", "/dev/null",
         "-w", "%{http_code}", "-H", "Expect: 100-continue",
         "-H", "Content-Type: application/octet-stream",
         "--data-binary", "@-", server.url("/healthz")],
        input=body, capture_output=True, timeout=20)
    assert result.returncode == 0, result.stderr.decode()
    trace = result.stderr.decode(errors="replace")
    assert "< HTTP/1.1 100 Continue" in trace, trace
    assert result.stdout == b"405"


def test_curl_chunked_upload(server):
    result = subprocess.run(
        ["curl", "--http1.1", "-sS", "-v", "--max-time", "10",
         "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/json",
         "--data-binary", "@-", server.url("/healthz")],
        input=b'{"chunked": true}' * 200, capture_output=True, timeout=20)
    assert result.returncode == 0, result.stderr.decode()
    trace = result.stderr.decode(errors="replace")
    assert "> Transfer-Encoding: chunked" in trace
    assert "< HTTP/1.1 405" in trace
    problem = json.loads(result.stdout)
    assert problem["status"] == 405


def test_curl_compressed_metrics(server, session):
    for _ in range(20):
        session.get(server.url("/healthz"))
    result = subprocess.run(
        ["curl", "--http1.1", "-sS", "-v", "--compressed", "--max-time", "10",
         server.url("/metrics")],
        capture_output=True, timeout=20)
    assert result.returncode == 0, result.stderr.decode()
    trace = result.stderr.decode(errors="replace").lower()
    assert "< content-encoding: gzip" in trace
    assert metric_samples(result.stdout.decode())


# Request ids

@pytest.mark.parametrize("incoming", [
    "abc",
    "A-Z.a_z-0.9",
    "x" * 128,
    "0123456789abcdef0123456789abcdef",
])
def test_valid_request_id_is_echoed(server, session, incoming):
    response = session.get(server.url("/healthz"), headers={"X-Request-Id": incoming})
    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", [
    "",
    "x" * 129,
    "has space",
    "semi;colon",
    "slash/id",
    "quote\"d",
    "ünïcode",
])
def test_invalid_request_id_is_replaced(server, session, incoming):
    headers = {"X-Request-Id": incoming.encode("utf-8")}
    first = session.get(server.url("/healthz"), headers=headers)
    second = session.get(server.url("/healthz"), headers=headers)
    assert first.status_code == 200
    for response in (first, second):
        assert RANDOM_ID.match(response.headers["x-request-id"]), response.headers
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_missing_request_id_gets_a_fresh_one_on_every_response(server, session):
    ids = {session.get(server.url(path)).headers["x-request-id"]
           for path in ("/healthz", "/readyz", "/metrics", "/nope", "/nope")}
    assert len(ids) == 5
    assert all(RANDOM_ID.match(i) for i in ids)


# Errors

def test_unknown_path_is_a_404_problem(server, session):
    response = session.get(server.url("/definitely/not/here"))
    problem = assert_problem(response, 404)
    assert "definitely" not in json.dumps(problem)  # the path is not reflected


def test_wrong_method_is_a_405_problem_with_allow(server, session):
    response = session.delete(server.url("/healthz"))
    assert_problem(response, 405)
    allowed = {m.strip().upper() for m in response.headers["allow"].split(",")}
    assert "GET" in allowed
    assert "DELETE" not in allowed


def test_post_with_body_to_get_route_is_405_and_connection_survives(server):
    with httpx.Client(base_url=server.base_url) as client:
        response = client.post("/healthz", json={"x": "y" * 5000})
        assert_problem(response, 405)
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz").status_code == 200


# Metrics

def test_metrics_are_prometheus_text_with_the_promised_families(server, session):
    for _ in range(5):
        session.get(server.url("/healthz"))
    session.get(server.url("/no/such/thing"))
    response = session.get(server.url("/metrics"))
    assert response.status_code == 200
    content_type = response.headers["content-type"].replace(" ", "").lower()
    assert content_type.startswith("text/plain;version=0.0.4"), content_type
    families = {f.name: f for f in text_string_to_metric_families(response.text)}

    requests_total = families["phigate_http_requests"]
    assert requests_total.type == "counter"
    healthz = [s for s in requests_total.samples
               if s.name == "phigate_http_requests_total"
               and s.labels == {"method": "GET", "route": "/healthz", "status": "200"}]
    assert healthz and healthz[0].value >= 5
    unmatched = [s for s in requests_total.samples
                 if s.labels.get("route") == "unmatched" and s.labels.get("status") == "404"]
    assert unmatched and unmatched[0].value >= 1

    duration = families["phigate_http_request_duration_seconds"]
    assert duration.type == "histogram"
    names = {s.name for s in duration.samples}
    assert {"phigate_http_request_duration_seconds_bucket",
            "phigate_http_request_duration_seconds_sum",
            "phigate_http_request_duration_seconds_count"} <= names
    inf = sample_value(duration.samples, "phigate_http_request_duration_seconds_bucket",
                       route="/healthz", le="+Inf")
    count = sample_value(duration.samples, "phigate_http_request_duration_seconds_count",
                         route="/healthz")
    assert inf is not None and inf == count and count >= 5

    gauge = families["phigate_http_open_connections"]
    assert gauge.type == "gauge"
    assert gauge.samples[0].value >= 1


def test_counter_grows_by_exactly_the_requests_made(server, session):
    labels = {"method": "GET", "route": "/readyz", "status": "200"}
    before = sample_value(scrape(server), "phigate_http_requests_total", **labels) or 0
    for _ in range(7):
        session.get(server.url("/readyz"))
    after = sample_value(scrape(server), "phigate_http_requests_total", **labels)
    assert after == before + 7


def test_raw_paths_never_become_metric_labels(server, session):
    session.get(server.url("/Patient/secret-patient-4711"))
    session.get(server.url("/healthz/secret-patient-4712"))
    response = session.get(server.url("/metrics"), headers={"Accept-Encoding": "identity"})
    assert "secret-patient" not in response.text


# gzip

@pytest.fixture(scope="module")
def warm(server, session):
    """Enough traffic that the /metrics body is well above 1 KB."""
    for path in ("/healthz", "/readyz", "/nothing", "/metrics") * 5:
        session.get(server.url(path))
    size = len(session.get(server.url("/metrics"),
                           headers={"Accept-Encoding": "identity"}).content)
    assert size >= 2048, f"/metrics is only {size} bytes after traffic"


def raw_get(server, path: str, accept_encoding: str | None):
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    with httpx.Client() as client:
        if accept_encoding is None:
            del client.headers["accept-encoding"]
        response = client.get(server.url(path), headers=headers)
        return response, response.headers.get("content-encoding"), response.content


@pytest.mark.parametrize("accept_encoding, gzipped", [
    ("gzip", True),
    ("gzip, deflate, br", True),
    ("GZIP", True),
    ("deflate, gzip;q=0.5", True),
    ("*", True),
    ("identity", False),
    ("br", False),
    ("gzip;q=0", False),
    ("gzip;q=0.000", False),
    ("*;q=0", False),
    (None, False),
])
def test_large_bodies_are_gzipped_only_when_accepted(server, warm, accept_encoding, gzipped):
    response, encoding, _ = raw_get(server, "/metrics", accept_encoding)
    assert response.status_code == 200
    assert (encoding == "gzip") == gzipped, (accept_encoding, response.headers)
    if gzipped:
        vary = {v.strip().lower() for v in response.headers.get("vary", "").split(",")}
        assert "accept-encoding" in vary
    assert metric_samples(response.text)


def test_gzip_body_is_a_real_gzip_stream(server, warm, session):
    response = session.get(server.url("/metrics"), headers={"Accept-Encoding": "gzip"},
                           stream=True)
    raw = response.raw.read(decode_content=False)
    assert response.headers["content-encoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b"
    if "content-length" in response.headers:
        assert int(response.headers["content-length"]) == len(raw)
    text = gzip.decompress(raw).decode()
    assert "phigate_http_requests_total" in text


def test_small_bodies_are_never_gzipped(server, session):
    response = session.get(server.url("/healthz"), headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.json() == {"status": "ok"}


# Logs

def test_credentials_sent_by_a_client_never_reach_the_log(server, session):
    secret_token = "tok-3f9a1c77e0b54d2a9f1e6c0b8d7a4e21"
    secret_password = "pw-Correct-Horse-Battery-8812"
    session.get(server.url("/healthz"), headers={"Authorization": f"Bearer {secret_token}"})
    session.get(server.url("/nope"), headers={"Authorization": f"Bearer {secret_token}",
                                              "Cookie": f"session={secret_token}"})
    session.post(server.url("/healthz"),
                 json={"username": "alice", "password": secret_password})
    session.get(server.url(f"/nope?password={secret_password}"))
    assert session.get(server.url("/healthz")).status_code == 200
    log = "\n".join(server.log_lines)
    assert secret_token not in log
    assert secret_password not in log
