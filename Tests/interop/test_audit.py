"""The audit log from the outside: entries per decision, compliance endpoints, exports,
offline verification, tamper detection, crash safety and failing closed."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

from phigate_process import clean_environment, phigate_bin, start_server
from rawhttp import RawConnection

CREDENTIAL = re.compile(r"^\s+(\S+)\s+(clinician|registrar|compliance|security-admin|ehr-system)\s+(\S+)\s*$")


def demo_server(data_dir=None, env=None):
    server = start_server(env={"PHIGATE_DEMO": "true", **(env or {})}, data_dir=data_dir)
    passwords = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "ehr.demo" not in passwords:
        for line in server.stdout.lines:
            match = CREDENTIAL.match(line)
            if match:
                passwords[match.group(1)] = match.group(3)
        time.sleep(0.05)
    return server, passwords


def login(server, name, password):
    response = requests.post(server.url("/auth/login"), json={"username": name, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def cli(data_dir, *args):
    return subprocess.run([phigate_bin(), *args], env=clean_environment({"PHIGATE_DATA_DIR": data_dir}),
                          capture_output=True, text=True, timeout=120)


def entries(data_dir):
    out = cli(data_dir, "audit", "export", "--format", "ndjson")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def gateway():
    server, passwords = demo_server()
    clinician = login(server, "dr.demo", passwords["dr.demo"])
    compliance = login(server, "compliance.demo", passwords["compliance.demo"])
    registrar = login(server, "registrar.demo", passwords["registrar.demo"])
    yield server, passwords, clinician, compliance, registrar
    server.stop()


def events(server, headers, **params):
    response = requests.get(server.url("/audit/events"), headers=headers, params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_reads_and_denials_are_recorded_with_the_exact_resources(gateway):
    server, _, clinician, compliance, _ = gateway
    ok = requests.get(server.url("/fhir/Observation?patient=demo-pat-0001&_count=3"), headers=clinician, timeout=30)
    assert ok.status_code == 200
    returned = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in ok.json()["entry"]]
    request_id = ok.headers["X-Request-Id"]
    denied = requests.get(server.url("/fhir/Patient/demo-pat-0002"), headers=clinician, timeout=30)
    assert denied.status_code == 403
    log = events(server, compliance, actor="dr.demo", limit=1000)
    search = next(e for e in log if e.get("request_id") == request_id)
    assert search["event"] == "fhir.search"
    assert search["outcome"] == "allowed"
    assert search["resources"] == returned
    assert search["patient"] == "demo-pat-0001"
    assert search["purpose"] == "TREAT"
    assert search["rule"] == "clinician.care_relationship"
    assert search["client"].startswith("127.0.0.1:")
    refusal = next(e for e in log if e.get("request_id") == denied.headers["X-Request-Id"])
    assert refusal["outcome"] == "denied"
    assert refusal["status"] == 403
    assert refusal["rule"] == "deny.no_relationship"
    assert "resources" not in refusal


def test_requests_refused_before_a_policy_decision_are_recorded(gateway):
    server, _, clinician, compliance, _ = gateway
    impersonating = requests.get(server.url("/fhir/Patient/demo-pat-0001"),
                                 headers={**clinician, "X-On-Behalf-Of": "dr.colleague"}, timeout=30)
    assert impersonating.status_code == 400
    unsupported = requests.get(server.url("/fhir/Binary/x"), headers=clinician, timeout=30)
    assert unsupported.status_code == 400
    unknown = requests.get(server.url("/fhir/Observation?patient=demo-pat-0002&foo=bar"), headers=clinician, timeout=30)
    assert unknown.status_code == 400
    bad_id = requests.get(server.url("/fhir/Patient/demo-pat-0001/$everything".replace("demo-pat-0001", "a" * 65)),
                          headers=clinician, timeout=30)
    assert bad_id.status_code == 400
    log = {e.get("request_id"): e for e in events(server, compliance, actor="dr.demo", limit=1000)}
    refused = log[impersonating.headers["X-Request-Id"]]
    assert (refused["event"], refused["outcome"], refused["status"]) == ("auth.rejected", "denied", 400)
    assert refused["rule"] == "deny.on_behalf_of_not_allowed" and refused["roles"] == ["clinician"]
    assert refused["details"]["on_behalf_of"] == "dr.colleague", "the name the clinician tried to act as"
    read = log[unsupported.headers["X-Request-Id"]]
    assert (read["event"], read["outcome"], read["status"]) == ("fhir.read", "error", 400)
    search = log[unknown.headers["X-Request-Id"]]
    assert (search["event"], search["outcome"], search["status"]) == ("fhir.search", "error", 400)
    assert search["details"]["query"] == "patient=demo-pat-0002&foo=bar"
    assert log[bad_id.headers["X-Request-Id"]]["event"] == "fhir.everything"


def test_a_system_is_named_in_its_refusals_and_so_is_the_user_it_asked_for(gateway):
    server, passwords, _, compliance, _ = gateway
    system = login(server, "ehr.demo", passwords["ehr.demo"])
    token = system["Authorization"]
    with RawConnection(server.address) as connection:
        twice = connection.request("GET", "/fhir/Patient/demo-pat-0001", headers=[
            ("Authorization", token), ("X-On-Behalf-Of", "dr.demo"), ("X-On-Behalf-Of", "dr.demo"),
            ("X-Request-Id", "obo-twice-1")])
    assert twice.status == 400
    unknown = requests.get(server.url("/fhir/Patient/demo-pat-0001"), timeout=30,
                           headers={**system, "X-On-Behalf-Of": "Nobody.Here", "X-Request-Id": "obo-unknown-1"})
    assert unknown.status_code == 403
    garbled = requests.get(server.url("/fhir/Patient/demo-pat-0001"), timeout=30,
                           headers={**system, "X-On-Behalf-Of": "not a name", "X-Request-Id": "obo-garbled-1"})
    assert garbled.status_code == 403
    log = {e.get("request_id"): e for e in events(server, compliance, actor="ehr.demo", limit=1000)}
    refused = log["obo-twice-1"]
    assert (refused["event"], refused["action"], refused["outcome"], refused["status"]) == \
        ("auth.rejected", "auth.on_behalf_of", "error", 400)
    assert refused["roles"] == ["ehr-system"]
    assert log["obo-unknown-1"]["details"]["on_behalf_of"] == "nobody.here"
    assert log["obo-unknown-1"]["outcome"] == "denied"
    assert log["obo-garbled-1"]["details"]["on_behalf_of"] == "(not a valid username)"


def send(server, headers, method, path, body=None, content_type="application/json"):
    """One request under a fresh X-Request-Id, with `body` sent as the bytes given."""
    request_id = "t-" + os.urandom(8).hex()
    sent = {**headers, "X-Request-Id": request_id}
    if body is not None:
        sent["Content-Type"] = content_type
    response = requests.request(method, server.url(path), headers=sent, data=body, timeout=30)
    assert response.headers["X-Request-Id"] == request_id
    return response, request_id


def recorded(server, request_id):
    """The one audit entry of a request, read from the database file by the command line."""
    found = [e for e in entries(server.data_dir) if e.get("request_id") == request_id]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("body, status", [
    (b"{bad", 400),
    (b'{"resourceType": "Bundle", "type": "batch", "entry": []}', 400),
    (b'{"resourceType": "Bundle", "type": "transaction", "entry": [{}]}', 400),
])
def test_an_import_the_policy_allowed_but_the_gateway_refused_is_an_error(gateway, body, status):
    server, passwords, *_ = gateway
    ehr = login(server, "ehr.demo", passwords["ehr.demo"])
    response, request_id = send(server, ehr, "POST", "/fhir", body, "application/fhir+json")
    assert response.status_code == status, response.text
    entry = recorded(server, request_id)
    assert (entry["event"], entry["outcome"], entry["status"]) == ("fhir.transaction", "error", status)
    assert entry["rule"] == "ehr_system.import" and entry["actor"] == "ehr.demo"


@pytest.mark.parametrize("path, requested", [
    ("/fhir/Foo/1", "Foo/1"),
    ("/fhir/Patient/" + "a" * 65, "Patient/" + "a" * 65),
    ("/fhir/Patient/bad%7Cid", "Patient/bad?id"),
    ("/fhir/" + "X" * 300 + "/1", "X" * 128),
    ("/fhir/Foo", "Foo"),
    ("/fhir/Patient/%C3%A9t%C3%A9/$everything", "Patient/??t??"),
])
def test_a_refused_fhir_request_says_what_was_asked_for(gateway, path, requested):
    server, _, clinician, *_ = gateway
    response, request_id = send(server, clinician, "GET", path)
    assert response.status_code == 400, response.text
    entry = recorded(server, request_id)
    assert (entry["outcome"], entry["status"]) == ("error", 400)
    assert entry["details"]["requested"] == requested


def test_checkpoints_are_their_own_action(gateway):
    server, _, _, compliance, _ = gateway
    response, request_id = send(server, compliance, "GET", "/audit/checkpoints")
    assert response.status_code == 200
    entry = recorded(server, request_id)
    assert (entry["event"], entry["action"], entry["outcome"]) == ("audit.checkpoints", "audit.checkpoints", "allowed")


def test_searches_record_what_was_searched_for(gateway):
    server, _, clinician, compliance, _ = gateway
    empty = requests.get(server.url("/fhir/Patient?name=Nobody-At-All&birthdate=1970"), headers=clinician, timeout=30)
    assert empty.status_code == 200 and empty.json()["total"] == 0
    log = {e.get("request_id"): e for e in events(server, compliance, event="fhir.search", limit=1000)}
    entry = log[empty.headers["X-Request-Id"]]
    assert entry["details"]["query"] == "name=Nobody-At-All&birthdate=1970"
    assert "resources" not in entry


def test_rejected_tokens_and_failed_logins_are_recorded(gateway):
    server, _, _, compliance, _ = gateway
    rejected = requests.get(server.url("/fhir/Patient/demo-pat-0001"),
                            headers={"Authorization": "Bearer nope-nope-nope-nope"},
                            timeout=30)
    assert rejected.status_code == 401
    failed = requests.post(server.url("/auth/login"), json={"username": "ghost.user", "password": "x" * 16}, timeout=30)
    assert failed.status_code == 401
    log = events(server, compliance, outcome="denied", limit=1000)
    by_request = {e.get("request_id"): e for e in log}
    assert by_request[rejected.headers["X-Request-Id"]]["event"] == "auth.rejected"
    login_entry = by_request[failed.headers["X-Request-Id"]]
    assert login_entry["event"] == "auth.login"
    assert login_entry["actor"] == "ghost.user"
    assert login_entry["details"]["reason"] == "unknown_user"
    garbled = requests.post(server.url("/auth/login"), data=b'{"username": "dr.demo", "password": ',
                            headers={"Content-Type": "application/json"}, timeout=30)
    assert garbled.status_code == 400
    wrong_type = requests.post(server.url("/auth/login"), data=b"username=dr.demo",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert wrong_type.status_code == 415
    # Parsers disagree on which of two "username" members wins: the body is refused, not read.
    twice = requests.post(server.url("/auth/login"), data=b'{"username": "dr.demo", "username": "ghost.user", '
                          b'"password": "x"}', headers={"Content-Type": "application/json"}, timeout=30)
    assert twice.status_code == 400 and "twice" in twice.json()["detail"]
    attempts = {e.get("request_id"): e for e in events(server, compliance, event="auth.login", limit=1000)}
    for response in (garbled, wrong_type, twice):
        entry = attempts[response.headers["X-Request-Id"]]
        assert (entry["outcome"], entry["status"], entry["actor"]) == ("error", response.status_code, "anonymous")
        assert entry["details"]["reason"] == "malformed_request"


def test_only_compliance_reads_the_log_and_attempts_are_recorded(gateway):
    server, _, clinician, compliance, registrar = gateway
    for headers in (clinician, registrar):
        response = requests.get(server.url("/audit/events"), headers=headers, timeout=30)
        assert response.status_code == 403
        assert response.headers["Content-Type"].startswith("application/problem+json")
    log = events(server, compliance, event="audit.query", outcome="denied")
    assert {e["actor"] for e in log} >= {"dr.demo", "registrar.demo"}


def test_filters_paging_and_single_entries(gateway):
    server, _, _, compliance, _ = gateway
    first = requests.get(server.url("/audit/events"), headers=compliance, params={"limit": 2}, timeout=30).json()
    assert len(first["entries"]) == 2 and first["next_cursor"] == first["entries"][-1]["seq"]
    second = requests.get(server.url("/audit/events"), headers=compliance,
                          params={"limit": 2, "cursor": first["next_cursor"]}, timeout=30).json()
    assert second["entries"][0]["seq"] == first["entries"][-1]["seq"] + 1
    wanted = second["entries"][0]["seq"]
    one = requests.get(server.url(f"/audit/events/{wanted}"), headers=compliance, timeout=30)
    assert one.json() == second["entries"][0]
    reading = events(server, compliance, event="audit.query", limit=1000)
    assert next(e for e in reading if e.get("request_id") == one.headers["X-Request-Id"])["details"] == {
        "seq": str(wanted)}
    assert requests.get(server.url("/audit/events/999999"), headers=compliance, timeout=30).status_code == 404
    future = requests.get(server.url("/audit/events"), headers=compliance, params={"since": "2999-01-01T00:00:00Z"},
                          timeout=30).json()
    assert future["entries"] == []
    bad = requests.get(server.url("/audit/events"), headers=compliance, params={"since": "yesterday"}, timeout=30)
    assert bad.status_code == 400
    for repeated, name in (("event=fhir.read&event=auth.login", "event"), ("limit=5&limit=6", "limit")):
        twice = requests.get(server.url("/audit/events?" + repeated), headers=compliance, timeout=30)
        assert twice.status_code == 400, repeated
        assert twice.json()["detail"] == f"Each parameter may appear once; {name} is repeated."


def test_verify_endpoint_and_public_key(gateway):
    server, _, _, compliance, _ = gateway
    report = requests.get(server.url("/audit/verify"), headers=compliance, timeout=60).json()
    assert report["ok"] is True
    assert report["entries_checked"] >= 5
    key = requests.get(server.url("/audit/public-key"), timeout=30).json()
    assert key["key_name"] == "phigate.local/audit"
    assert key["verifier_key"].startswith("phigate.local/audit+")
    assert "BEGIN PUBLIC KEY" in key["public_key_pem"]


def test_disclosures_account_for_a_patient(gateway):
    server, _, clinician, compliance, _ = gateway
    requests.get(server.url("/fhir/Patient/demo-pat-0001/$everything"), headers=clinician, timeout=30)
    report = requests.get(server.url("/audit/disclosures"), headers=compliance, params={"patient": "demo-pat-0001"},
                          timeout=30).json()
    assert report["patient"] == "demo-pat-0001"
    rows = report["disclosures"]
    assert rows and all(r["recipient"] == "dr.demo" for r in rows)
    assert all(r["purpose"] == "TREAT" for r in rows)
    assert any(len(r["what"]) > 1 for r in rows)
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", r["date"]) for r in rows)


def test_disclosures_include_patients_a_search_returned_and_only_their_records(gateway):
    server, _, clinician, compliance, _ = gateway
    search = requests.get(server.url("/fhir/Patient?_count=5"), headers=clinician, timeout=30)
    assert search.status_code == 200
    returned = [e["resource"]["id"] for e in search.json()["entry"]]
    assert len(returned) >= 2, "the demo clinician treats several patients"
    for patient in returned:
        report = requests.get(server.url("/audit/disclosures"), headers=compliance, params={"patient": patient},
                              timeout=30).json()
        row = next(r for r in report["disclosures"] if r["request_id"] == search.headers["X-Request-Id"])
        # The accounting for one patient names that patient's record, not the others returned with it.
        assert row["what"] == [f"Patient/{patient}"]
        found = events(server, compliance, patient=patient, event="fhir.search", limit=1000)
        assert search.headers["X-Request-Id"] in {e.get("request_id") for e in found}


def test_fhir_export_validates_as_audit_events(gateway):
    from fhir.resources.R4B.auditevent import AuditEvent

    server, _, clinician, compliance, _ = gateway
    assert requests.get(server.url("/fhir/Patient/demo-pat-0001"), headers=clinician, timeout=30).status_code == 200
    response = requests.get(server.url("/audit/export"), headers=compliance, params={"format": "fhir"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+ndjson")
    lines = response.text.splitlines()
    assert len(lines) >= 5
    for line in lines:
        AuditEvent.model_validate(json.loads(line))
    events_ = [json.loads(line) for line in lines]
    reads = [e for e in events_ if e["subtype"][0]["code"] == "read" and e["outcome"] == "0"]
    assert reads and reads[0]["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    assert reads[0]["entity"][0]["what"]["reference"].startswith("Patient/")


def test_cef_export_is_well_formed_and_gzip_on_request(gateway):
    server, _, _, compliance, _ = gateway
    response = requests.get(server.url("/audit/export"), headers={**compliance, "Accept-Encoding": "gzip"},
                            params={"format": "cef"}, timeout=60, stream=True)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers.get("Transfer-Encoding") == "chunked"
    text = gzip.decompress(response.raw.read()).decode()
    header = re.compile(r"^CEF:0\|phigate\|phigate\|[^|]+\|[a-z_.]+\|[a-z_.]+\|\d+\|(\S+=.*)$")
    for line in text.splitlines():
        match = header.match(line)
        assert match, line
        assert re.match(r"^rt=\d+ externalId=\d+ suser=", match.group(1)), line


def raw_get(server, target, headers):
    """A GET sent byte for byte: requests re-encodes a bad escape such as %ZZ before sending it."""
    with RawConnection(server.address, timeout=30) as conn:
        return conn.request("GET", target, list(headers.items()))


def test_failed_compliance_calls_are_recorded_with_their_real_status(gateway):
    server, _, _, compliance, _ = gateway
    calls = [("/audit/events?cursor=abc", 400, "audit.query"), ("/audit/events/999999", 404, "audit.query"),
             ("/audit/events?actor=%ZZ", 400, "audit.query"), ("/audit/verify?x=1", 400, "audit.verify"),
             ("/audit/disclosures", 400, "audit.disclosures"), ("/audit/export?format=xml", 400, "audit.export")]
    expected = {}
    for target, status, event in calls:
        response = raw_get(server, target, compliance)
        assert response.status == status, target
        expected[response.header("X-Request-Id")] = (status, event)
    answered = requests.get(server.url("/audit/checkpoints"), headers=compliance, timeout=30)
    assert answered.status_code == 200
    log = {e.get("request_id"): e for e in events(server, compliance, limit=1000, event="audit.query")}
    log.update({e.get("request_id"): e for e in events(server, compliance, limit=1000, outcome="error")})
    for request_id, (status, event) in expected.items():
        entry = log[request_id]
        assert (entry["event"], entry["outcome"], entry["status"]) == (event, "error", status)
    ok = next(e for e in events(server, compliance, limit=1000, event="audit.checkpoints")
              if e.get("request_id") == answered.headers["X-Request-Id"])
    assert (ok["outcome"], ok["status"]) == ("allowed", 200)


@pytest.mark.parametrize("target, detail", [
    ("/audit/disclosures?patient=A&patient=B", "Each parameter may appear once; patient is repeated."),
    ("/audit/disclosures?patient=demo-pat-0001&bogus=1", "Unsupported parameter; the parameters are patient."),
    ("/audit/events?format=cef", None),
    ("/audit/events?actor=%ZZ", "The query string is malformed."),
    ("/audit/events?actor=%C3%28", "The query string is malformed."),
    ("/audit/disclosures?patient=%ZZ", "The query string is malformed."),
    ("/audit/export?format=cef&actor=%ZZ", "The query string is malformed."),
    ("/audit/export?format=cef&format=fhir", "Each parameter may appear once; format is repeated."),
    ("/audit/export?format=cef&bogus=1", None),
    ("/audit/export?limit=0", None),
    ("/audit/events/1?limit=1", "This endpoint takes no parameters."),
    ("/audit/events/+5", "The sequence number is a positive integer."),
    ("/audit/events/0", "The sequence number is a positive integer."),
    ("/audit/events/99999999999999999999", "The sequence number is a positive integer."),
    ("/audit/verify?limit=1", "This endpoint takes no parameters."),
    ("/audit/checkpoints?limit=1", "This endpoint takes no parameters."),
    ("/audit/public-key?x=1", "This endpoint takes no parameters."),
])
def test_every_compliance_endpoint_refuses_parameters_it_does_not_define(gateway, target, detail):
    server, _, _, compliance, _ = gateway
    response = raw_get(server, target, compliance)
    assert response.status == 400, target
    assert response.header("Content-Type").startswith("application/problem+json")
    if detail:
        assert json.loads(response.body)["detail"] == detail


def test_export_honours_limit_and_cursor(gateway):
    server, _, _, compliance, _ = gateway
    for _ in range(3):
        assert requests.get(server.url("/audit/checkpoints"), headers=compliance, timeout=30).status_code == 200
    one = requests.get(server.url("/audit/export"), headers=compliance, params={"limit": 1}, timeout=60)
    assert one.status_code == 200
    assert [json.loads(line)["seq"] for line in one.text.splitlines()] == [1]
    page = requests.get(server.url("/audit/export"), headers=compliance,
                        params={"format": "cef", "limit": 3, "cursor": 1}, timeout=60)
    assert [re.search(r" externalId=(\d+) ", line).group(1) for line in page.text.splitlines()] == ["2", "3", "4"]
    filtered = requests.get(server.url("/audit/export"), headers=compliance,
                            params={"event": "audit.checkpoints", "limit": 2}, timeout=60)
    lines = [json.loads(line) for line in filtered.text.splitlines()]
    assert len(lines) == 2 and all(e["event"] == "audit.checkpoints" for e in lines)


def test_fhir_export_codes_a_failed_request_as_a_failure(gateway):
    from fhir.resources.R4B.auditevent import AuditEvent

    server, passwords, _, compliance, _ = gateway
    ehr = login(server, "ehr.demo", passwords["ehr.demo"])
    invalid = requests.post(server.url("/fhir"), headers={**ehr, "Content-Type": "application/fhir+json"},
                            data=b'{"resourceType":"Bundle","type":"transaction","entry":7}', timeout=30)
    assert invalid.status_code == 400, invalid.text
    request_id = invalid.headers["X-Request-Id"]
    response = requests.get(server.url("/audit/export"), headers=compliance,
                            params={"format": "fhir", "event": "fhir.transaction"}, timeout=60)
    mapped = [json.loads(line) for line in response.text.splitlines()]
    for event in mapped:
        AuditEvent.model_validate(event)
    failed = next(e for e in mapped
                  if any(x["what"].get("identifier", {}).get("value") == request_id for x in e["entity"]))
    assert failed["outcome"] == "4"


def copy_log(data_dir, tmp_path):
    for suffix in ("", "-wal", "-shm"):
        source = os.path.join(data_dir, "audit.sqlite" + suffix)
        if os.path.exists(source):
            shutil.copy(source, tmp_path / ("audit.sqlite" + suffix))
    return str(tmp_path / "audit.sqlite")


def test_offline_verify_detects_an_edited_row(gateway, tmp_path):
    server, *_ = gateway
    copy = copy_log(server.data_dir, tmp_path)
    clean = cli(server.data_dir, "audit", "verify", "--db", copy)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "audit log OK" in clean.stdout
    db = sqlite3.connect(copy)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    row = db.execute("SELECT entry FROM audit_log WHERE seq = 3").fetchone()[0]
    db.execute("UPDATE audit_log SET entry = ? WHERE seq = 3", (bytes(row).replace(b'"allowed"', b'"denied"'),))
    db.commit()
    db.close()
    tampered = cli(server.data_dir, "audit", "verify", "--db", copy)
    assert tampered.returncode == 1
    assert "entry 3" in tampered.stdout


def test_kill_9_under_load_loses_no_disclosed_entry(tmp_path):
    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir)
    headers = login(server, "dr.demo", passwords["dr.demo"])
    served: list[str] = []
    stop = threading.Event()

    def load():
        session = requests.Session()
        while not stop.is_set():
            try:
                response = session.get(server.url("/fhir/Patient/demo-pat-0001"), headers=headers, timeout=5)
            except requests.RequestException:
                return
            if response.status_code == 200:
                served.append(response.headers["X-Request-Id"])

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.proc.send_signal(signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(10)
    server.wait(10)
    assert len(served) > 20
    verified = cli(data_dir, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    recorded = {e.get("request_id") for e in entries(data_dir)
                if e["event"] == "fhir.read" and e["outcome"] == "allowed"}
    missing = [r for r in served if r not in recorded]
    assert missing == []
    restarted = start_server(data_dir=data_dir)
    try:
        # The operator sees the crash too, not only the compliance team.
        warned = restarted.stderr.wait_for(lambda r: r.get("msg") == "server.unclean_shutdown", 10)
        assert warned is not None and warned["level"] == "warning" and warned["audit.last_seq"] > 0, warned
    finally:
        restarted.stop()
    log = entries(data_dir)
    unclean = [e for e in log if e["event"] == "server.unclean_shutdown"]
    assert len(unclean) == 1 and unclean[0]["action"] == "server.unclean_shutdown"
    assert log[-1]["event"] == "server.stop"
    assert cli(data_dir, "audit", "verify").returncode == 0


def chattr(flag, *paths):
    return subprocess.run(["chattr", flag, *paths], capture_output=True).returncode == 0


def test_an_unwritable_log_fails_closed_and_recovers(tmp_path):
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("needs root and chattr to make the audit files immutable")
    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir)
    try:
        headers = login(server, "dr.demo", passwords["dr.demo"])
        assert requests.get(server.url("/fhir/Patient/demo-pat-0001"), headers=headers, timeout=30).status_code == 200
        files = [os.path.join(data_dir, name) for name in ("audit.sqlite", "audit.sqlite-wal")
                 if os.path.exists(os.path.join(data_dir, name))]
        if not chattr("+i", *files):
            pytest.skip("this file system does not support the immutable flag")
        try:
            refused = requests.get(server.url("/fhir/Patient/demo-pat-0001"), headers=headers, timeout=30)
            assert refused.status_code == 503
            assert refused.json()["resourceType"] == "OperationOutcome"
            assert "demo-pat-0001" not in refused.text and "name" not in refused.json()
            ready = requests.get(server.url("/readyz"), timeout=30)
            assert ready.status_code == 503 and "audit_log" in ready.json()["failing"]
            # The operator's log names why: the write failed, and SQLite's condition for it.
            unavailable = server.stderr.wait_for(lambda r: r.get("msg") == "audit.unavailable", 10)
            assert unavailable is not None
            assert unavailable["error.code"] == "write_failed"
            assert unavailable["error.store"] in ("io_error", "read_only", "cannot_open")
        finally:
            chattr("-i", *files)
        deadline = time.monotonic() + 15
        status = 0
        while time.monotonic() < deadline and status != 200:
            status = requests.get(server.url("/fhir/Patient/demo-pat-0001"), headers=headers, timeout=30).status_code
            time.sleep(0.3)
        assert status == 200
        assert requests.get(server.url("/readyz"), timeout=30).status_code == 200
    finally:
        server.stop()
    assert cli(data_dir, "audit", "verify").returncode == 0


def test_command_line_changes_reach_the_audit_log(tmp_path):
    data_dir = str(tmp_path / "data")
    added = subprocess.run([phigate_bin(), "user", "add", "Nurse.Admin", "--role", "registrar", "--password-stdin"],
                           input="registrar-password-9\n", capture_output=True, text=True, timeout=60,
                           env=clean_environment({"PHIGATE_DATA_DIR": data_dir}))
    assert added.returncode == 0, added.stderr
    assert cli(data_dir, "user", "disable", "nurse.admin").returncode == 0
    server = start_server(data_dir=data_dir)
    server.stop()
    log = entries(data_dir)
    changes = [e for e in log if e["event"].startswith("admin.")]
    assert [e["event"] for e in changes] == ["admin.user_add", "admin.user_disable"]
    assert all(e["actor"].startswith("cli:") and e["details"]["subject"] == "nurse.admin" for e in changes)
    assert changes[0]["details"]["role"] == "registrar"
    assert cli(data_dir, "audit", "verify").returncode == 0


def stored_entries(data_dir):
    """Every entry as the log stores it, read straight from audit_log: the ground truth the
    compliance queries must agree with, whatever their index holds."""
    connection = sqlite3.connect(f"file:{os.path.join(data_dir, 'audit.sqlite')}?mode=ro", uri=True)
    try:
        return [json.loads(row[0]) for row in connection.execute("SELECT entry FROM audit_log ORDER BY seq")]
    finally:
        connection.close()


def test_filters_agree_with_the_stored_log_across_index_blocks():
    server, passwords = demo_server()
    try:
        clinicians = [login(server, name, passwords[name]) for name in ("dr.demo", "dr.colleague")]
        compliance = login(server, "compliance.demo", passwords["compliance.demo"])
        session = requests.Session()
        # Reads of forty patients by two clinicians: allowed where they treat, denied elsewhere,
        # far more entries than one index block, so queries cross blocks and the unindexed tail.
        for n in range(700):
            patient = f"demo-pat-{(n * 7) % 40 + 1:04d}"
            session.get(server.url(f"/fhir/Patient/{patient}"), headers=clinicians[n % 2], timeout=30)
        time.sleep(1.5)  # the writer's timer indexes what waits; later entries stay in the tail
        for n in range(40):
            session.get(server.url(f"/fhir/Patient/demo-pat-{n + 1:04d}"), headers=clinicians[0], timeout=30)
        stored = stored_entries(server.data_dir)
        assert len(stored) > 740
        middle = stored[len(stored) // 2]["time"]
        filters = [
            {},
            {"actor": "dr.colleague"},
            {"patient": "demo-pat-0013"},
            {"patient": "demo-pat-0001", "outcome": "allowed"},
            {"actor": "dr.demo", "outcome": "denied", "action": "read"},
            {"event": "auth.login"},
            {"outcome": "error"},
            {"actor": "nobody"},
            {"since": str(middle), "until": str(middle + 50)},
            {"patient": "demo-pat-0040", "since": str(middle)},
        ]

        def selected(entry, wanted):
            for name in ("actor", "patient", "event", "action", "outcome", "grant"):
                if name in wanted and entry.get(name) != wanted[name]:
                    return False
            if "since" in wanted and entry["time"] < int(wanted["since"]):
                return False
            return "until" not in wanted or entry["time"] < int(wanted["until"])

        for wanted in filters:
            expected = [e["seq"] for e in stored if selected(e, wanted)]
            found, cursor = [], None
            while True:
                params = {**wanted, "limit": 37, **({"cursor": cursor} if cursor else {})}
                page = session.get(server.url("/audit/events"), headers=compliance, params=params, timeout=30)
                assert page.status_code == 200, page.text
                body = page.json()
                found += [e["seq"] for e in body["entries"] if e["seq"] <= stored[-1]["seq"]]
                cursor = body["next_cursor"]
                if cursor is None or cursor > stored[-1]["seq"]:
                    break
            assert found == expected, wanted
        by_seq = {e["seq"]: e for e in stored}
        accounting = session.get(server.url("/audit/disclosures"), headers=compliance,
                                 params={"patient": "demo-pat-0001"}, timeout=30).json()["disclosures"]
        expected = [e["seq"] for e in stored if e.get("patient") == "demo-pat-0001"
                    and e["outcome"] == "allowed" and e.get("resources")]
        assert [row["seq"] for row in accounting if row["seq"] in by_seq] == expected
    finally:
        server.stop()


def untriggered(data_dir):
    """A connection to the live audit log with the triggers that guard the index dropped, as
    someone with the file can."""
    db = sqlite3.connect(os.path.join(data_dir, "audit.sqlite"))
    for name in ("audit_blocks_no_update", "audit_blocks_no_delete", "audit_terms_no_delete",
                 "audit_checkpoints_no_delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.commit()
    return db


def read_patient(server, headers, times=5):
    for _ in range(times):
        response = requests.get(server.url("/fhir/Patient/demo-pat-0001"), headers=headers, timeout=30)
        assert response.status_code == 200


def patient_seqs(server, compliance):
    events_seqs = [e["seq"] for e in events(server, compliance, patient="demo-pat-0001", limit=1000)]
    disclosed = requests.get(server.url("/audit/disclosures"), headers=compliance,
                             params={"patient": "demo-pat-0001"}, timeout=30).json()["disclosures"]
    exported = requests.get(server.url("/audit/export"), headers=compliance,
                            params={"patient": "demo-pat-0001", "outcome": "allowed"}, timeout=60)
    exported_seqs = [json.loads(line)["seq"] for line in exported.text.splitlines()]
    return events_seqs, [row["seq"] for row in disclosed], exported_seqs


def test_the_verify_endpoint_checks_the_index_and_the_checkpoint_schedule(tmp_path):
    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir, env={"PHIGATE_AUDIT_CHECKPOINT_EVERY": "5"})
    try:
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        compliance = login(server, "compliance.demo", passwords["compliance.demo"])
        read_patient(server, clinician, 12)
        time.sleep(1.5)  # the writer's timer indexes what waits
        report = requests.get(server.url("/audit/verify"), headers=compliance, timeout=60).json()
        assert report["ok"] is True and report["checkpoint_every"] == 5, report
        assert report["index_blocks_checked"] >= 1
        before = patient_seqs(server, compliance)[0]
        db = untriggered(data_dir)
        db.execute("DELETE FROM audit_terms WHERE term = 'p:demo-pat-0001'")
        db.commit()
        # What the index no longer names, filtered queries do not find: verification must say so.
        assert len(patient_seqs(server, compliance)[0]) < len(before)
        report = requests.get(server.url("/audit/verify"), headers=compliance, timeout=60).json()
        assert report["ok"] is False
        assert report["first_bad"]["reason"] == "index_mismatch", report
        db.execute("DELETE FROM audit_checkpoints")
        db.commit()
        db.close()
        report = requests.get(server.url("/audit/verify"), headers=compliance, timeout=60).json()
        assert report["first_bad"]["reason"] == "unsigned_tail", report
        assert report["first_bad"]["seq"] == 5 and report["first_bad"]["suspect_from"] == 1
    finally:
        server.stop()


@pytest.mark.parametrize("edit,args,reason", [
    # The repro of the report: a block row from after the index to far beyond the head.
    ("INSERT INTO audit_blocks VALUES ((SELECT max(last_seq) + 1 FROM audit_blocks), 1000000000, 0, 0)",
     [], "past_head"),
    ("DELETE FROM audit_terms WHERE term = 'p:demo-pat-0001'", ["--rebuild-audit-index"], "requested"),
])
def test_an_edited_index_is_reported_then_rebuilt_with_an_entry_saying_why(tmp_path, edit, args, reason):
    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir)
    try:
        read_patient(server, login(server, "dr.demo", passwords["dr.demo"]))
    finally:
        server.stop()
    db = untriggered(data_dir)
    db.execute(edit)
    db.commit()
    db.close()
    failed = cli(data_dir, "audit", "verify", "--json")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert json.loads(failed.stdout)["first_bad"]["reason"] == "index_mismatch"

    server = start_server(env={"PHIGATE_DEMO": "true"}, data_dir=data_dir, args=args)
    try:
        rebuilt = server.stderr.wait_for(lambda r: r.get("msg") == "audit.index_rebuilt", 10)
        assert rebuilt is not None and rebuilt["audit.reason"] == reason
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        compliance = login(server, "compliance.demo", passwords["compliance.demo"])
        read_patient(server, clinician, 3)
        events_seqs, disclosed, exported = patient_seqs(server, compliance)
        stored = [e["seq"] for e in stored_entries(data_dir)
                  if e.get("patient") == "demo-pat-0001" and e["event"] == "fhir.read"]
        assert len(stored) == 8
        assert set(stored) <= set(events_seqs)
        assert set(stored) <= set(disclosed)
        assert set(stored) <= set(exported)
        repair = events(server, compliance, event="audit.index_rebuilt")
        assert [e["details"]["reason"] for e in repair] == [reason]
        assert repair[0]["action"] == "audit.index_rebuilt"
        assert repair[0]["outcome"] == ("allowed" if reason == "requested" else "error")
    finally:
        server.stop()
    offline = cli(data_dir, "audit", "export", "--format", "ndjson", "--actor", "dr.demo")
    assert len([line for line in offline.stdout.splitlines() if '"fhir.read"' in line]) == 8
    verified = cli(data_dir, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_proxied_read_names_the_user_their_role_and_the_system(gateway):
    server, passwords, _, compliance, _ = gateway
    system = login(server, "ehr.demo", passwords["ehr.demo"])
    agent = 'Epic-Bridge/4.2 (Linux; x86_64) "night shift" build=77; \\path'
    response, request_id = send(server, {**system, "X-On-Behalf-Of": "dr.demo", "User-Agent": agent},
                                "GET", "/fhir/Patient/demo-pat-0001")
    assert response.status_code == 200, response.text
    entry = recorded(server, request_id)
    assert (entry["event"], entry["action"], entry["outcome"], entry["status"]) == \
        ("fhir.read", "fhir.read", "allowed", 200)
    assert entry["actor"] == "dr.demo"
    assert entry["roles"] == ["clinician"]
    assert entry["proxy"] == "ehr.demo"
    assert entry["patient"] == "demo-pat-0001"
    assert entry["resources"] == ["Patient/demo-pat-0001"]
    assert entry["purpose"] == "TREAT"
    assert entry["user_agent"] == agent
    # The accounting of disclosures names the user as recipient and the system it came through.
    rows = requests.get(server.url("/audit/disclosures"), headers=compliance, params={"patient": "demo-pat-0001"},
                        timeout=30).json()["disclosures"]
    row = next(r for r in rows if r["request_id"] == request_id)
    assert row == {"date": row["date"], "recipient": "dr.demo", "through": "ehr.demo", "roles": ["clinician"],
                   "purpose": "TREAT", "what": ["Patient/demo-pat-0001"], "seq": entry["seq"],
                   "request_id": request_id}


def test_the_user_agent_is_kept_to_its_first_256_characters(gateway):
    server, _, clinician, *_ = gateway
    agent = "x" * 250 + "-tail-beyond-256"
    response, request_id = send(server, {**clinician, "User-Agent": agent}, "GET", "/fhir/Patient/demo-pat-0001")
    assert response.status_code == 200
    assert recorded(server, request_id)["user_agent"] == agent[:256]


@pytest.mark.parametrize("name, roles", [
    ("registrar.demo", ["registrar"]), ("ehr.demo", ["ehr-system"]), ("compliance.demo", ["compliance"]),
])
def test_a_successful_login_records_the_accounts_roles(gateway, name, roles):
    server, passwords, *_ = gateway
    response, request_id = send(server, {}, "POST", "/auth/login",
                                json.dumps({"username": name, "password": passwords[name]}).encode())
    assert response.status_code == 200, response.text
    entry = recorded(server, request_id)
    assert (entry["event"], entry["action"], entry["outcome"], entry["status"]) == \
        ("auth.login", "auth.login", "allowed", 200)
    assert entry["actor"] == name
    assert entry["roles"] == roles
    assert "proxy" not in entry and "details" not in entry


def test_a_lockout_is_an_entry_for_the_locked_account():
    """auth.lockout_threshold (5 by default) wrong passwords lock the name: the fifth failure is
    answered 401 and adds an auth.lockout entry; while locked, even the right password is a 429."""
    server, passwords = demo_server()
    try:
        attempts = []
        for _ in range(5):
            # Another spelling of the same canonical name shares its budget.
            response, request_id = send(server, {}, "POST", "/auth/login",
                                        json.dumps({"username": " Security.Demo ", "password": "wrong-" * 3}).encode())
            attempts.append((response.status_code, request_id))
        assert [status for status, _ in attempts] == [401] * 5
        locked, locked_id = send(server, {}, "POST", "/auth/login",
                                 json.dumps({"username": "security.demo", "password": passwords["security.demo"]}
                                            ).encode())
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] == "900"
        log = entries(server.data_dir)
        lockouts = [e for e in log if e["event"] == "auth.lockout"]
        assert len(lockouts) == 1, lockouts
        lockout = lockouts[0]
        assert lockout["actor"] == "security.demo"
        assert (lockout["action"], lockout["outcome"], lockout["status"]) == ("auth.login", "denied", 429)
        assert lockout["request_id"] == attempts[-1][1], "the failure that started the lockout"
        assert "roles" not in lockout
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", lockout["details"]["locked_until"])
        by_request = {e.get("request_id"): e for e in log if e["event"] == "auth.login"}
        for status, request_id in attempts:
            failed = by_request[request_id]
            assert (failed["actor"], failed["outcome"], failed["status"]) == ("security.demo", "denied", 401)
            assert failed["details"]["reason"] == "wrong_password"
        refused = by_request[locked_id]
        assert (refused["actor"], refused["outcome"], refused["status"]) == ("security.demo", "denied", 429)
        assert refused["details"]["reason"] == "locked"
        assert lockout["seq"] == by_request[attempts[-1][1]]["seq"] + 1
    finally:
        server.stop()


@pytest.fixture(scope="module")
def anchored_log(tmp_path_factory):
    """A stopped demo gateway's data directory (checkpoints every 5 entries), with an anchor
    taken from GET /audit/checkpoints while it ran and the size that anchor signs."""
    data_dir = str(tmp_path_factory.mktemp("anchored") / "data")
    server, passwords = demo_server(data_dir=data_dir, env={"PHIGATE_AUDIT_CHECKPOINT_EVERY": "5"})
    try:
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        compliance = login(server, "compliance.demo", passwords["compliance.demo"])
        read_patient(server, clinician, 40)
        listed = requests.get(server.url("/audit/checkpoints"), headers=compliance, timeout=30)
        assert listed.status_code == 200, listed.text
        latest = listed.json()["checkpoints"][-1]
        # Entries written after the anchor was taken, as on a gateway that goes on serving.
        read_patient(server, clinician, 7)
    finally:
        server.stop()
    anchor = os.path.join(os.path.dirname(data_dir), "anchor.txt")
    with open(anchor, "w") as file:
        file.write(latest["signed_note"] + "\n")  # as `jq -r` writes it
    return data_dir, anchor, latest["size"]


def verify_json(data_dir, db, *args):
    out = cli(data_dir, "audit", "verify", "--db", db, "--public-key", os.path.join(data_dir, "audit-signing.pub"),
              "--checkpoint-every", "5", *args)
    return out, json.loads(out.stdout) if "--json" in args else None


def test_an_anchor_from_the_checkpoints_endpoint_verifies_the_log(anchored_log):
    data_dir, anchor, size = anchored_log
    assert size >= 40
    db = os.path.join(data_dir, "audit.sqlite")
    out, _ = verify_json(data_dir, db, "--anchor", anchor)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("audit log OK: ") and ", anchor matched" in out.stdout, out.stdout
    out, report = verify_json(data_dir, db, "--anchor", anchor, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert report["ok"] is True and "first_bad" not in report
    assert report["head_seq"] > size and report["checkpoint_every"] == 5


def test_a_tail_deleted_with_its_checkpoints_is_caught_only_by_the_anchor(anchored_log, tmp_path):
    data_dir, anchor, size = anchored_log
    kept = size - 2
    copy = copy_log(data_dir, tmp_path)
    db = sqlite3.connect(copy)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    # What someone covering their tracks deletes: the entries, the checkpoints that sign them
    # and the index blocks that describe them.
    db.execute("DELETE FROM audit_log WHERE seq > ?", (kept,))
    db.execute("DELETE FROM audit_checkpoints WHERE size > ?", (kept,))
    db.execute("DELETE FROM audit_blocks WHERE last_seq > ?", (kept,))
    db.execute("DELETE FROM audit_terms WHERE block NOT IN (SELECT first_seq FROM audit_blocks)")
    db.commit()
    db.close()
    without, report = verify_json(data_dir, copy, "--json")
    assert without.returncode == 0, without.stdout + without.stderr
    assert report["ok"] is True and report["head_seq"] == kept
    out, report = verify_json(data_dir, copy, "--anchor", anchor, "--json")
    assert out.returncode == 1, out.stdout + out.stderr
    assert report["ok"] is False
    assert report["first_bad"] == {"seq": kept + 1, "reason": "anchor_not_reached", "suspect_from": kept + 1,
                                   "message": f"the anchor signs {size} entries; the log has {kept}"}
    plain, _ = verify_json(data_dir, copy, "--anchor", anchor)
    assert plain.returncode == 1
    assert f"FAILED verification at entry {kept + 1}: anchor_not_reached" in plain.stdout, plain.stdout


def test_two_swapped_rows_are_named_at_the_first_of_them(anchored_log, tmp_path):
    data_dir, _, _ = anchored_log
    copy = copy_log(data_dir, tmp_path)
    db = sqlite3.connect(copy)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    rows = {seq: (prev, entry, digest) for seq, prev, entry, digest in
            db.execute("SELECT seq, prev_hash, entry, hash FROM audit_log WHERE seq IN (30, 31)")}
    for seq, other in ((30, 31), (31, 30)):
        db.execute("UPDATE audit_log SET prev_hash = ?, entry = ?, hash = ? WHERE seq = ?", (*rows[other], seq))
    db.commit()
    db.close()
    out, report = verify_json(data_dir, copy, "--json")
    assert out.returncode == 1, out.stdout + out.stderr
    assert report["first_bad"] == {"seq": 30, "reason": "seq_mismatch", "suspect_from": 30,
                                   "message": "the row holds the entry written as 31"}
    plain, _ = verify_json(data_dir, copy)
    assert plain.returncode == 1
    assert "FAILED verification at entry 30: seq_mismatch" in plain.stdout, plain.stdout


@pytest.fixture(scope="module")
def non_compliance(gateway):
    """A token for each role but compliance, keyed by role."""
    server, passwords, clinician, _, registrar = gateway
    return {"clinician": clinician, "registrar": registrar,
            "security-admin": login(server, "security.demo", passwords["security.demo"]),
            "ehr-system": login(server, "ehr.demo", passwords["ehr.demo"])}


AUDIT_ENDPOINTS = [
    ("/audit/events", "audit.query"),
    ("/audit/events/1", "audit.query"),
    ("/audit/verify", "audit.verify"),
    ("/audit/checkpoints", "audit.checkpoints"),
    ("/audit/disclosures?patient=demo-pat-0001", "audit.disclosures"),
    ("/audit/export?format=ndjson", "audit.export"),
]


@pytest.mark.parametrize("role", ["clinician", "registrar", "security-admin", "ehr-system"])
@pytest.mark.parametrize("target, event", AUDIT_ENDPOINTS)
def test_every_audit_endpoint_is_for_compliance_only(gateway, non_compliance, role, target, event):
    """Docs/API.md: the audit endpoints are for compliance accounts only, /audit/checkpoints
    included; only /audit/public-key is public."""
    server = gateway[0]
    response, request_id = send(server, non_compliance[role], "GET", target)
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["detail"] == "The audit log is for compliance accounts."
    entry = recorded(server, request_id)
    assert (entry["event"], entry["outcome"], entry["status"]) == (event, "denied", 403)
    assert entry["roles"] == [role]


def test_the_public_key_needs_no_account(gateway):
    server = gateway[0]
    response = requests.get(server.url("/audit/public-key"), timeout=30)
    assert response.status_code == 200
    assert set(response.json()) == {"key_name", "verifier_key", "public_key_pem"}
    with open(os.path.join(server.data_dir, "audit-signing.pub")) as file:
        assert response.json()["public_key_pem"] == file.read()


REPORT_FIELDS = {"ok", "entries_checked", "checkpoints_checked", "head_seq", "head_hash", "latest_checkpoint_size",
                 "entries_after_last_checkpoint", "checkpoint_every", "index_checked", "index_blocks_checked"}


def test_the_verify_endpoint_answers_200_with_ok_false_for_a_failed_log(tmp_path):
    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir)
    try:
        compliance = login(server, "compliance.demo", passwords["compliance.demo"])
        read_patient(server, login(server, "dr.demo", passwords["dr.demo"]), 3)
        clean = requests.get(server.url("/audit/verify"), headers=compliance, timeout=60)
        assert clean.status_code == 200
        assert set(clean.json()) == REPORT_FIELDS and clean.json()["ok"] is True
        db = sqlite3.connect(os.path.join(data_dir, "audit.sqlite"))
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        seq, entry = next((seq, bytes(entry)) for seq, entry in
                          db.execute("SELECT seq, entry FROM audit_log ORDER BY seq")
                          if b'"event":"fhir.read"' in bytes(entry))
        db.execute("UPDATE audit_log SET entry = ? WHERE seq = ?",
                   (bytes(entry).replace(b'"allowed"', b'"denied"'), seq))
        db.commit()
        db.close()
        failed, request_id = send(server, compliance, "GET", "/audit/verify")
        assert failed.status_code == 200, failed.text
        assert failed.headers["Content-Type"].startswith("application/json")
        report = failed.json()
        assert set(report) == REPORT_FIELDS | {"first_bad"}
        assert report["ok"] is False
        assert report["first_bad"] == {"seq": seq, "reason": "hash_mismatch", "suspect_from": seq,
                                       "message": "the stored hash does not match the entry"}
        assert report["entries_checked"] == report["head_seq"] and len(report["head_hash"]) == 64
        # The call was answered, so its own entry says allowed, whatever the log it found.
        recorded_call = next(e for e in events(server, compliance, event="audit.verify", limit=1000)
                             if e.get("request_id") == request_id)
        assert (recorded_call["outcome"], recorded_call["status"]) == ("allowed", 200)
    finally:
        server.stop()


def test_cef_names_the_seq_roles_status_proxy_and_agent(gateway):
    server, passwords, _, compliance, _ = gateway
    system = login(server, "ehr.demo", passwords["ehr.demo"])
    agent = "Bridge/1.0 build=7 \\x"
    response, request_id = send(server, {**system, "X-On-Behalf-Of": "dr.demo", "User-Agent": agent},
                                "GET", "/fhir/Patient/demo-pat-0001")
    assert response.status_code == 200
    seq = recorded(server, request_id)["seq"]
    line = requests.get(server.url("/audit/export"), headers=compliance, timeout=60,
                        params={"format": "cef", "cursor": seq - 1, "limit": 1}).text.rstrip("\n")
    assert line.startswith("CEF:0|phigate|phigate|") and "|fhir.read|fhir.read|3|" in line, line
    fields = line.split("|", 7)[7]
    assert fields.startswith("rt=") and f" externalId={seq} suser=dr.demo act=fhir.read outcome=allowed " \
        "cn1Label=status cn1=200 spriv=clinician cs6Label=proxy cs6=ehr.demo " in fields, fields
    assert f" cs4Label=request_id cs4={request_id} " in fields
    assert fields.endswith(" requestClientApplication=Bridge/1.0 build\\=7 \\\\x"), fields


@pytest.mark.parametrize("params, content_type", [
    ({}, "application/x-ndjson"),
    ({"format": "ndjson"}, "application/x-ndjson"),
    ({"format": "fhir"}, "application/fhir+ndjson"),
    ({"format": "cef"}, "text/plain; charset=utf-8"),
])
def test_export_content_type_per_format_and_ndjson_by_default(gateway, params, content_type):
    server, _, _, compliance, _ = gateway
    response = requests.get(server.url("/audit/export"), headers=compliance, params={**params, "limit": 2},
                            timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    name = params.get("format", "ndjson")
    assert response.headers["Content-Disposition"] == f'attachment; filename="phigate-audit.{name}"'
    lines = response.text.splitlines()
    assert len(lines) == 2
    if name == "ndjson":
        assert [json.loads(line)["seq"] for line in lines] == [1, 2]


@pytest.mark.parametrize("tried", ["phigate", " Anonymous ", "invalid-username", "al ice"])
def test_a_login_under_a_reserved_or_unreadable_name_is_not_recorded_under_it(gateway, tried):
    """Anyone can try to log in as "phigate"; the entry must not read as the gateway's own."""
    server, _, _, compliance, _ = gateway
    failed = requests.post(server.url("/auth/login"), json={"username": tried, "password": "not the password"},
                           timeout=30)
    assert failed.status_code == 401
    attempts = events(server, compliance, event="auth.login", outcome="denied", limit=1000)
    entry = next(e for e in attempts if e.get("request_id") == failed.headers["X-Request-Id"])
    assert entry["actor"] == "invalid-username"
