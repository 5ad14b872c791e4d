"""Break-glass end to end: second factor, grants used only when named, review, signed alerts."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time

import subprocess

import pyotp
import pytest
import requests
from standardwebhooks.webhooks import Webhook

from phigate_process import clean_environment, phigate_bin, start_server
from webhook_receiver import Receiver

CREDENTIAL = re.compile(r"^\s+(\S+)\s+(clinician|registrar|compliance|security-admin|ehr-system)\s+(\S+)\s*$")
TOTP_LINE = re.compile(r"^\s+(dr\.\S+)\s+([A-Z2-7]{16,})\s*$")
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
JUSTIFICATION = "Patient arrived unconscious in the ED; need allergies and medications now."


def start_demo(receiver, data_dir=None, fresh=True):
    env = {"PHIGATE_DEMO": "true", "PHIGATE_ALERTS_RETRY_BASE_MILLISECONDS": "100",
           "PHIGATE_ALERTS_RETRY_CAP_SECONDS": "1", "PHIGATE_ALERTS_MAX_ATTEMPTS": "1000",
           "PHIGATE_WEBHOOKS": json.dumps([{"url": receiver.url, "secret": SECRET, "events": ["*"]}])}
    server = start_server(env=env, data_dir=data_dir)
    deadline = time.monotonic() + 30
    passwords, totp = {}, {}
    while fresh and time.monotonic() < deadline and ("dr.colleague" not in totp or "ehr.demo" not in passwords):
        for line in server.stdout.lines:
            if m := CREDENTIAL.match(line):
                passwords[m.group(1)] = m.group(3)
            if m := TOTP_LINE.match(line):
                totp[m.group(1)] = m.group(2)
        time.sleep(0.05)
    return server, passwords, totp


def login(server, name, password):
    response = requests.post(server.url("/auth/login"), json={"username": name, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def code(secret, steps=0):
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def activation(totp_code, patient="demo-pat-0002", **overrides):
    body = {"patient": patient, "reason": "emergency-treatment", "justification": JUSTIFICATION,
            "totp": totp_code, "acknowledge": True}
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def setup():
    receiver = Receiver()
    server, passwords, totp = start_demo(receiver)
    clinician = login(server, "dr.demo", passwords["dr.demo"])
    compliance = login(server, "compliance.demo", passwords["compliance.demo"])
    yield server, passwords, totp, clinician, compliance, receiver
    server.stop()
    receiver.stop()


def post(server, path, headers, body):
    return requests.post(server.url(path), json=body, headers=headers, timeout=30)


@pytest.mark.parametrize("overrides,status", [
    ({"totp": "12345"}, 400), ({"totp": "1234567"}, 400), ({"totp": " 123456"}, 400), ({"totp": "+12345"}, 400),
    ({"totp": "１２３４５６"}, 400), ({"totp": ""}, 400),
    ({"acknowledge": False}, 400), ({"acknowledge": "true"}, 400), ({"justification": "because"}, 400),
    ({"justification": "   " * 20}, 400), ({"reason": "curiosity"}, 400), ({"patient": "../x"}, 400),
    ({"justification": "\u200b" * 25}, 400), ({"justification": "\u2060\ufeff" * 15}, 400),
    ({"duration_minutes": "5"}, 400), ({"duration_minutes": 1.5}, 400), ({"duration_minutes": 1e100}, 400),
    ({"duration_minutes": 99999999999999999999999}, 400), ({"duration_minutes": None}, 400),
    ({"duration_minutes": True}, 400), ({"duration_minutes": 0}, 400), ({"duration_minutes": 100000}, 400),
    ({"duration": 30}, 400), ({"note": "a typo must not pass unnoticed"}, 400),
])
def test_activation_refuses_incomplete_requests_without_using_the_code(setup, overrides, status):
    server, _, totp, clinician, *_ = setup
    response = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], -1), **overrides))
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_other_roles_cannot_break_the_glass(setup):
    server, passwords, totp, _, compliance, _ = setup
    assert post(server, "/break-glass", compliance, activation("000000")).status_code == 403
    registrar = login(server, "registrar.demo", passwords["registrar.demo"])
    assert post(server, "/break-glass", registrar, activation("000000")).status_code == 403


def test_the_whole_flow(setup):
    server, _, totp, clinician, compliance, receiver = setup
    untreated = server.url("/fhir/Patient/demo-pat-0002")
    assert requests.get(untreated, headers=clinician, timeout=30).status_code == 403

    wrong = post(server, "/break-glass", clinician, activation(pyotp.TOTP(pyotp.random_base32()).now()))
    assert wrong.status_code == 403

    started = time.monotonic()
    granted = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], -1)))
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    assert grant["id"].startswith("bg_") and grant["patient"] == "demo-pat-0002"
    assert grant["reason"] == "emergency-treatment"
    assert "X-Break-Glass" in grant["warning"] and "alerted" in grant["warning"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", grant["expires_at"])

    replay = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], -1), patient="demo-pat-0003"))
    assert replay.status_code == 403

    assert requests.get(untreated, headers=clinician, timeout=30).status_code == 403
    named = {**clinician, "X-Break-Glass": grant["id"]}
    assert requests.get(untreated, headers=named, timeout=30).status_code == 200
    other = requests.get(server.url("/fhir/Patient/demo-pat-0003"), headers=named, timeout=30)
    assert other.status_code == 403
    malformed = requests.get(untreated, headers={**clinician, "X-Break-Glass": "not-a-grant"}, timeout=30)
    assert malformed.status_code == 400

    alerts = receiver.wait_for("break_glass.activated")
    assert alerts, "no break_glass.activated alert arrived"
    delivery = alerts[0]
    payload = Webhook(SECRET).verify(delivery["body"], delivery["headers"])
    assert payload["type"] == "break_glass.activated"
    assert payload["data"]["grant_id"] == grant["id"]
    assert payload["data"]["patient"] == "demo-pat-0002"
    # Alerts go to chat tools: the free text stays in the audit log and the review queue.
    assert "justification" not in payload["data"]
    assert JUSTIFICATION.encode() not in delivery["body"]
    assert delivery["at"] - started < 10
    assert receiver.wait_for("auth.lockout"), "a replayed code must raise an alert"

    log = requests.get(server.url("/audit/events"), headers=compliance, params={"grant": grant["id"], "limit": 100},
                       timeout=30).json()["entries"]
    events = [e["event"] for e in log]
    assert "break_glass.activate" in events
    read = next(e for e in log if e["event"] == "fhir.read" and e["outcome"] == "allowed")
    assert read["purpose"] == "BTG" and read["grant"] == grant["id"] and read["rule"] == "clinician.break_glass"
    # Every access under the grant carries why it was opened, not only the activation.
    assert read["reason"] == "emergency-treatment" and read["justification"] == JUSTIFICATION
    activate = next(e for e in log if e["event"] == "break_glass.activate")
    assert activate["justification"] == JUSTIFICATION and activate["reason"] == "emergency-treatment"
    assert activate["details"]["expires_at"] == grant["expires_at"], "the same time, in the same form"
    # The grant named for another patient is refused, and a search by grant finds the attempt.
    by_request = {e.get("request_id"): e for e in log}
    misuse = by_request[other.headers["X-Request-Id"]]
    assert misuse["outcome"] == "denied" and misuse["rule"] == "deny.grant_wrong_patient"
    assert "justification" not in misuse
    mine = requests.get(server.url("/audit/events"), headers=compliance, params={"actor": "dr.demo", "limit": 1000},
                        timeout=30).json()["entries"]
    entry = next(e for e in mine if e.get("request_id") == malformed.headers["X-Request-Id"])
    assert entry["status"] == 400 and entry["details"]["break_glass"] == "malformed grant id"
    assert "grant" not in entry
    assert_exports_carry_the_grant(server, compliance, grant["id"])

    listed = requests.get(server.url("/break-glass"), headers=clinician, timeout=30).json()["grants"]
    assert any(g["id"] == grant["id"] and g["status"] == "active" for g in listed)

    ended = requests.delete(server.url(f"/break-glass/{grant['id']}"), headers=clinician, timeout=30)
    assert ended.status_code == 200
    reuse = requests.get(untreated, headers=named, timeout=30)
    assert reuse.status_code == 403
    assert receiver.wait_for("break_glass.ended")
    after = requests.get(server.url("/audit/events"), headers=compliance, params={"grant": grant["id"], "limit": 100},
                         timeout=30).json()["entries"]
    refused = next(e for e in after if e.get("request_id") == reuse.headers["X-Request-Id"])
    assert refused["outcome"] == "denied" and refused["rule"] == "deny.grant_revoked"
    assert refused["grant"] == grant["id"] and refused["patient"] == "demo-pat-0002"

    pending = requests.get(server.url("/reviews"), headers=compliance, params={"status": "pending"}, timeout=30)
    assert grant["id"] in pending.text
    assert post(server, f"/reviews/{grant['id']}", clinician, {"disposition": "justified", "notes": "mine"}
                ).status_code == 403
    reviewed = post(server, f"/reviews/{grant['id']}", compliance,
                    {"disposition": "justified", "notes": "Confirmed with the ED charge nurse."})
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "completed"
    assert post(server, f"/reviews/{grant['id']}", compliance, {"disposition": "unjustified", "notes": ""}
                ).status_code == 409
    done = receiver.wait_for("review.completed")
    assert Webhook(SECRET).verify(done[0]["body"], done[0]["headers"])["data"]["disposition"] == "justified"


def assert_exports_carry_the_grant(server, compliance, grant_id):
    """The FHIR and CEF exports name the grant, its reason and its justification."""
    from fhir.resources.R4B.auditevent import AuditEvent

    params = {"grant": grant_id, "event": "break_glass.activate"}
    fhir = requests.get(server.url("/audit/export"), headers=compliance, params={**params, "format": "fhir"},
                        timeout=60).text.splitlines()
    assert fhir
    for line in fhir:
        AuditEvent.model_validate(json.loads(line))
    entities = [x for x in json.loads(fhir[0])["entity"]
                if x["what"].get("identifier", {}).get("system") == "urn:phigate:break-glass-grant"]
    assert [x["what"]["identifier"]["value"] for x in entities] == [grant_id]
    details = {d["type"]: d["valueString"] for d in entities[0]["detail"]}
    assert details == {"reason": "emergency-treatment", "justification": JUSTIFICATION}
    # The activation and every access the grant allowed are coded BTG, HL7 v3 PurposeOfUse.
    btg = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "BTG"}]}]
    assert [json.loads(line)["purposeOfEvent"] for line in fhir] == [btg] * len(fhir)
    reads = requests.get(server.url("/audit/export"), headers=compliance, timeout=60, params={
        "grant": grant_id, "event": "fhir.read", "outcome": "allowed", "format": "fhir"}).text.splitlines()
    assert reads
    for line in reads:
        AuditEvent.model_validate(json.loads(line))
        assert json.loads(line)["purposeOfEvent"] == btg
    cef = requests.get(server.url("/audit/export"), headers=compliance, params={**params, "format": "cef"},
                       timeout=60).text.splitlines()
    assert cef and all(f" cs3={grant_id} " in line for line in cef)
    assert all(line.endswith(" flexString1Label=justification flexString1=" + JUSTIFICATION) for line in cef)


def test_guessing_codes_hits_the_budget(setup):
    server, passwords, totp, *_ , receiver = setup
    colleague = login(server, "dr.colleague", passwords["dr.colleague"])
    before = len(receiver.accepted("auth.lockout"))
    statuses = [post(server, "/break-glass", colleague, activation(f"{n:06d}", patient="demo-pat-0001")).status_code
                for n in range(5)]
    assert statuses == [403] * 5
    locked = post(server, "/break-glass", colleague, activation(code(totp["dr.colleague"]), patient="demo-pat-0001"))
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert len(receiver.wait_for("auth.lockout", count=before + 1)) > before


def test_alerts_survive_a_receiver_outage_and_a_restart(tmp_path):
    receiver = Receiver()
    port = receiver.port
    data_dir = str(tmp_path / "data")
    server, passwords, totp = start_demo(receiver, data_dir=data_dir)
    try:
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        receiver.stop()
        first = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], -1)))
        assert first.status_code == 201, first.text
        time.sleep(1.5)
    finally:
        server.stop()
    receiver = Receiver(port=port)
    receiver.status = 500
    server, _, _ = start_demo(receiver, data_dir=data_dir, fresh=False)
    try:
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        second = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], 1), patient="demo-pat-0003"))
        assert second.status_code == 201, second.text
        time.sleep(1.5)
        receiver.status = 200
        arrived = receiver.wait_for("break_glass.activated", count=2, timeout=60)
        grants = {Webhook(SECRET).verify(d["body"], d["headers"])["data"]["grant_id"] for d in arrived}
        assert grants == {first.json()["id"], second.json()["id"]}
        ids = {}
        for delivery in receiver.deliveries:
            if b"break_glass.activated" in delivery["body"]:
                ids.setdefault(delivery["body"], set()).add(delivery["headers"]["webhook-id"])
        assert all(len(v) == 1 for v in ids.values()), "retries must carry the same webhook-id"
    finally:
        server.stop()
        receiver.stop()


def test_security_admin_manages_subscribers_and_denial_bursts_alert(tmp_path):
    receiver = Receiver()
    env_server, passwords, _ = start_demo(receiver)
    try:
        admin = login(env_server, "security.demo", passwords["security.demo"])
        clinician = login(env_server, "dr.demo", passwords["dr.demo"])
        assert requests.get(env_server.url("/admin/webhooks"), headers=clinician, timeout=30).status_code == 403
        listed = requests.get(env_server.url("/admin/webhooks"), headers=admin, timeout=30).json()["webhooks"]
        assert [w["source"] for w in listed] == ["config"]
        assert "secret" not in json.dumps(listed).replace("secret_fingerprint", "")
        second = Receiver()
        added = requests.post(env_server.url("/admin/webhooks"), headers=admin, timeout=30,
                              json={"url": second.url, "events": ["access.denied_burst"]})
        assert added.status_code == 201, added.text
        secret = added.json()["secret"]
        assert secret.startswith("whsec_")
        compliance = login(env_server, "compliance.demo", passwords["compliance.demo"])
        log = requests.get(env_server.url("/audit/events"), headers=compliance, timeout=30,
                           params={"event": "admin.webhook_add", "limit": 1000}).json()["entries"]
        entry = next(e for e in log if e.get("request_id") == added.headers["X-Request-Id"])
        assert entry["details"] == {"id": added.json()["id"], "url": second.url, "events": "access.denied_burst"}
        assert secret not in json.dumps(log)
        refused = requests.post(env_server.url("/admin/webhooks"), headers=admin, timeout=30,
                                json={"url": "ftp://example.org/hook"})
        assert refused.status_code == 400
        log = requests.get(env_server.url("/audit/events"), headers=compliance, timeout=30,
                           params={"event": "admin.webhook_add", "outcome": "error", "limit": 1000}).json()["entries"]
        assert any(e.get("request_id") == refused.headers["X-Request-Id"] and e["status"] == 400 for e in log)
        for n in range(10):
            requests.get(env_server.url("/fhir/Patient/demo-pat-0002"), headers=clinician, timeout=30)
        burst = second.wait_for("access.denied_burst", timeout=20)
        assert burst, "ten denials in a row must raise access.denied_burst"
        assert Webhook(secret).verify(burst[0]["body"], burst[0]["headers"])["data"]["user"] == "dr.demo"
        removed = requests.delete(env_server.url(f"/admin/webhooks/{added.json()['id']}"), headers=admin, timeout=30)
        assert removed.status_code == 204
        dead = requests.get(env_server.url("/admin/webhooks/dead-letters"), headers=admin, timeout=30)
        assert dead.status_code == 200 and "dead_letters" in dead.json()
        second.stop()
    finally:
        env_server.stop()
        receiver.stop()


@pytest.mark.parametrize("events", [["break_glass.activate"], ["auth.lockouts"], ["nope"], ["breakglass.*"],
                                    ["*", "review.overdu"]])
def test_a_filter_that_matches_no_event_is_refused(setup, events):
    server, passwords, *_ = setup
    admin = login(server, "security.demo", passwords["security.demo"])
    refused = requests.post(server.url("/admin/webhooks"), headers=admin, timeout=30,
                            json={"url": "http://127.0.0.1:9996/x", "events": events})
    assert refused.status_code == 400, refused.text
    detail = refused.json()["detail"]
    bad = [e for e in events if e != "*"][0]
    assert f'"{bad}"' in detail and "break_glass.activated" in detail and "auth.lockout" in detail
    listed = requests.get(server.url("/admin/webhooks"), headers=admin, timeout=30).json()["webhooks"]
    assert all(w["url"] != "http://127.0.0.1:9996/x" for w in listed)


@pytest.mark.parametrize("events", [["*"], ["break_glass.*"], ["break_glass.activated", "audit.*"]])
def test_filters_that_match_events_are_accepted(setup, events):
    server, passwords, *_ = setup
    admin = login(server, "security.demo", passwords["security.demo"])
    added = requests.post(server.url("/admin/webhooks"), headers=admin, timeout=30,
                          json={"url": "http://127.0.0.1:9/unused", "events": events})
    assert added.status_code == 201, added.text
    assert requests.delete(server.url(f"/admin/webhooks/{added.json()['id']}"), headers=admin,
                           timeout=30).status_code == 204


def cli(data_dir, *args, stdin=None):
    return subprocess.run([phigate_bin(), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env=clean_environment({"PHIGATE_DATA_DIR": data_dir}))


def test_self_enrolment_does_not_replace_an_administrator_issued_factor(tmp_path):
    data_dir = str(tmp_path / "data")
    for name in ("dr.third", "dr.fourth"):
        added = cli(data_dir, "user", "add", name, "--role", "clinician", "--password-stdin",
                    stdin="clinician-password-3\n")
        assert added.returncode == 0, added.stderr
    issued = cli(data_dir, "user", "totp", "dr.third")
    assert issued.returncode == 0, issued.stderr
    admin_secret = re.search(r"secret: ([A-Z2-7]+)", issued.stdout).group(1)
    server = start_server(data_dir=data_dir)
    try:
        third = login(server, "dr.third", "clinician-password-3")
        refused = post(server, "/auth/totp/enroll", third, {})
        assert refused.status_code == 409, refused.text
        assert "administrator" in refused.json()["detail"] and "secret" not in refused.json()
        assert post(server, "/auth/totp/confirm", third, {"code": code(admin_secret)}).status_code == 200
        relogin = requests.post(server.url("/auth/login"), timeout=30,
                                json={"username": "dr.third", "password": "clinician-password-3"})
        assert relogin.json()["user"]["totp_enrolled"] is True
        assert post(server, "/auth/totp/enroll", third, {}).status_code == 409

        # An account with no factor at all may still enrol itself, and start over until it confirms.
        fourth = login(server, "dr.fourth", "clinician-password-3")
        first = post(server, "/auth/totp/enroll", fourth, {})
        assert first.status_code == 200, first.text
        again = post(server, "/auth/totp/enroll", fourth, {})
        assert again.status_code == 200, again.text
        assert again.json()["secret"] != first.json()["secret"]
        assert post(server, "/auth/totp/confirm", fourth, {"code": code(again.json()["secret"])}).status_code == 200
        assert post(server, "/auth/totp/enroll", fourth, {}).status_code == 409
    finally:
        server.stop()


def test_the_warning_says_plainly_when_nobody_is_alerted(tmp_path):
    server = start_server(env={"PHIGATE_DEMO": "true"})
    try:
        deadline = time.monotonic() + 30
        passwords, totp = {}, {}
        while time.monotonic() < deadline and "dr.demo" not in totp:
            for line in server.stdout.lines:
                if m := CREDENTIAL.match(line):
                    passwords[m.group(1)] = m.group(3)
                if m := TOTP_LINE.match(line):
                    totp[m.group(1)] = m.group(2)
            time.sleep(0.05)
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        granted = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], -1)))
        assert granted.status_code == 201
        assert "no alert subscriber is configured" in granted.json()["warning"]
    finally:
        server.stop()


def test_a_refused_request_leaves_the_code_for_the_corrected_retry(tmp_path):
    receiver = Receiver()
    server, passwords, totp = start_demo(receiver)
    try:
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        wrong = pyotp.TOTP(pyotp.random_base32()).now()
        # Without a valid code, an unknown patient is refused like a known one.
        assert post(server, "/break-glass", clinician, activation(wrong, patient="no-such-patient")).status_code == 403
        assert post(server, "/break-glass", clinician, activation(wrong)).status_code == 403
        valid = code(totp["dr.demo"], -1)
        missing = post(server, "/break-glass", clinician, activation(valid, patient="no-such-patient"))
        assert missing.status_code == 404, missing.text
        retry = post(server, "/break-glass", clinician, activation(valid, duration_minutes=5))
        assert retry.status_code == 201, retry.text
        grant = retry.json()
        started = time.strptime(grant["activated_at"], "%Y-%m-%dT%H:%M:%SZ")
        ends = time.strptime(grant["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert time.mktime(ends) - time.mktime(started) == 300
        assert receiver.wait_for("break_glass.activated")
        time.sleep(0.5)
        assert receiver.accepted("auth.lockout") == []
        replay = post(server, "/break-glass", clinician, activation(valid, patient="demo-pat-0003"))
        assert replay.status_code == 403
    finally:
        server.stop()
        receiver.stop()


def test_grant_administration(tmp_path):
    receiver = Receiver()
    server, passwords, totp = start_demo(receiver)
    try:
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        admin = login(server, "security.demo", passwords["security.demo"])
        compliance = login(server, "compliance.demo", passwords["compliance.demo"])
        ehr = login(server, "ehr.demo", passwords["ehr.demo"])
        granted = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], -1)))
        assert granted.status_code == 201, granted.text
        grant_id = granted.json()["id"]

        listing = requests.get(server.url("/break-glass"), headers=admin, timeout=30)
        assert listing.status_code == 200, listing.text
        listed = {g["id"]: g for g in listing.json()["grants"]}
        assert listed[grant_id]["status"] == "active" and listed[grant_id]["holder"] == "dr.demo"
        assert JUSTIFICATION not in listing.text
        bad = requests.get(server.url("/break-glass"), headers=admin, params={"status": "some"}, timeout=30)
        assert bad.status_code == 400
        log = requests.get(server.url("/audit/events"), headers=compliance, timeout=30,
                           params={"event": "break_glass.list", "limit": 1000}).json()["entries"]
        entry = next(e for e in log if e.get("request_id") == listing.headers["X-Request-Id"])
        assert entry["actor"] == "security.demo" and entry["outcome"] == "allowed"
        assert entry["rule"] == "security_admin.list_grants"
        refused = next(e for e in log if e.get("request_id") == bad.headers["X-Request-Id"])
        assert (refused["outcome"], refused["status"]) == ("error", 400)

        unnamed = requests.delete(server.url(f"/break-glass/{grant_id}"), headers=ehr, timeout=30)
        assert unnamed.status_code == 400
        assert "X-On-Behalf-Of" in unnamed.json()["detail"]

        notes = post(server, f"/reviews/{grant_id}", compliance, {"disposition": "needs-follow-up", "notes": 5})
        assert notes.status_code == 400, notes.text
        pending = requests.get(server.url("/reviews"), headers=compliance, timeout=30).json()["reviews"]
        assert next(r for r in pending if r["grant"]["id"] == grant_id)["decisions"] == []

        disabled = subprocess.run([phigate_bin(), "user", "disable", "dr.demo"], capture_output=True, text=True,
                                  env=clean_environment({"PHIGATE_DATA_DIR": server.data_dir}), timeout=120)
        assert disabled.returncode == 0, disabled.stderr
        assert "1 active break-glass grant" in disabled.stdout
        active = requests.get(server.url("/break-glass"), headers=admin, timeout=30).json()["grants"]
        assert grant_id not in [g["id"] for g in active]
        every = requests.get(server.url("/break-glass"), headers=admin, params={"status": "all"}, timeout=30)
        ended = next(g for g in every.json()["grants"] if g["id"] == grant_id)
        assert ended["status"] == "ended" and ended["ended_by"].startswith("cli:")
        alerts = receiver.wait_for("break_glass.ended")
        assert alerts, "ending grants on disable must raise break_glass.ended"
        data = Webhook(SECRET).verify(alerts[0]["body"], alerts[0]["headers"])["data"]
        assert data["grant_id"] == grant_id and data["ended_by"].startswith("cli:")
        deadline = time.monotonic() + 30
        events = []
        while time.monotonic() < deadline and "break_glass.end" not in events:
            log = requests.get(server.url("/audit/events"), headers=compliance, timeout=30,
                               params={"grant": grant_id, "limit": 100}).json()["entries"]
            events = [e["event"] for e in log]
            time.sleep(0.5)
        assert "break_glass.end" in events
    finally:
        server.stop()
        receiver.stop()


UNKNOWN_GRANT = "bg_" + "A" * 22


@pytest.fixture(scope="module")
def refusals():
    """A fresh gateway where dr.demo holds one active grant, for requests that go wrong."""
    receiver = Receiver()
    server, passwords, totp = start_demo(receiver)
    users = {name: login(server, name, passwords[name])
             for name in ("dr.demo", "dr.colleague", "compliance.demo", "security.demo", "ehr.demo")}
    granted = post(server, "/break-glass", users["dr.demo"], activation(code(totp["dr.demo"], -1)))
    assert granted.status_code == 201, granted.text
    yield server, users, granted.json()["id"]
    server.stop()
    receiver.stop()


def send(server, headers, method, path, body=None, content_type="application/json"):
    """One request under a fresh X-Request-Id; a dict body is sent as JSON, bytes as they are."""
    request_id = "t-" + os.urandom(8).hex()
    sent = {**headers, "X-Request-Id": request_id}
    data = None
    if body is not None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        sent["Content-Type"] = content_type
    response = requests.request(method, server.url(path), headers=sent, data=data, timeout=30)
    assert response.headers["X-Request-Id"] == request_id
    return response, request_id


def recorded(server, request_id):
    """The audit entries of one request, read from the database file by the command line."""
    out = cli(server.data_dir, "audit", "export", "--format", "ndjson")
    assert out.returncode == 0, out.stderr
    return [e for e in map(json.loads, out.stdout.splitlines()) if e.get("request_id") == request_id]


# {grant} is the fixture's real grant, held by dr.demo; UNKNOWN_GRANT is well formed but exists nowhere.
@pytest.mark.parametrize("who, method, path, body, status, event, outcome, grant", [
    # Ending a grant: whoever could not end it gets the same 403 whether it exists or not.
    ("dr.demo", "DELETE", f"/break-glass/{UNKNOWN_GRANT}", None, 403, "break_glass.end", "denied", UNKNOWN_GRANT),
    ("dr.colleague", "DELETE", "/break-glass/{grant}", None, 403, "break_glass.end", "denied", "{grant}"),
    ("compliance.demo", "DELETE", f"/break-glass/{UNKNOWN_GRANT}", None, 403, "break_glass.end", "denied",
     UNKNOWN_GRANT),
    ("security.demo", "DELETE", f"/break-glass/{UNKNOWN_GRANT}", None, 404, "break_glass.end", "error",
     UNKNOWN_GRANT),
    ("dr.demo", "DELETE", "/break-glass/bad%7Cid", None, 400, "break_glass.end", "error", None),
    # Reviews: a bad request is an error, a refusal by the policy is denied, existing grant or not.
    ("compliance.demo", "POST", f"/reviews/{UNKNOWN_GRANT}", {"disposition": "justified"}, 404, "review.complete",
     "error", UNKNOWN_GRANT),
    ("compliance.demo", "POST", "/reviews/{grant}", {"disposition": "maybe"}, 400, "review.complete", "error",
     "{grant}"),
    ("compliance.demo", "POST", "/reviews/{grant}", b"{bad", 400, "review.complete", "error", "{grant}"),
    ("compliance.demo", "POST", "/reviews/bad%7Cid", {"disposition": "justified"}, 400, "review.complete", "error",
     None),
    ("dr.colleague", "POST", "/reviews/{grant}", {"disposition": "justified"}, 403, "review.complete", "denied",
     "{grant}"),
    ("dr.colleague", "POST", f"/reviews/{UNKNOWN_GRANT}", {"disposition": "justified"}, 403, "review.complete",
     "denied", UNKNOWN_GRANT),
    ("compliance.demo", "POST", "/reviews/{grant}", {"disposition": "justified", "note": "typo"}, 400,
     "review.complete", "error", "{grant}"),
    ("compliance.demo", "POST", "/reviews/{grant}?disposition=unjustified", {"disposition": "justified"}, 400,
     "review.complete", "error", "{grant}"),
    ("dr.demo", "DELETE", "/break-glass/{grant}?force=true", None, 400, "break_glass.end", "error", "{grant}"),
    ("dr.demo", "POST", "/break-glass?patient=demo-pat-0003", activation("000000"), 400, "break_glass.activate",
     "error", None),
    ("compliance.demo", "GET", "/reviews?status=bogus", None, 400, "review.list", "error", None),
    ("compliance.demo", "GET", "/reviews?state=pending", None, 400, "review.list", "error", None),
    ("compliance.demo", "GET", "/reviews?status=pending&status=completed", None, 400, "review.list", "error", None),
    ("compliance.demo", "GET", "/reviews?status=%FF", None, 400, "review.list", "error", None),
    ("compliance.demo", "GET", "/reviews?limit=0", None, 400, "review.list", "error", None),
    ("compliance.demo", "GET", "/reviews?limit=1001", None, 400, "review.list", "error", None),
    ("compliance.demo", "GET", "/reviews?limit=1", None, 200, "review.list", "allowed", None),
    # The second factor and the caller's own account.
    ("dr.demo", "POST", "/auth/totp/confirm", b"{bad", 400, "auth.totp_confirm", "error", None),
    ("dr.demo", "POST", "/auth/totp/enroll", {}, 409, "auth.totp_enroll", "error", None),
    ("ehr.demo", "POST", "/auth/totp/enroll", {}, 403, "auth.totp_enroll", "denied", None),
    ("dr.demo", "GET", "/auth/me", None, 200, "auth.me", "allowed", None),
    # Activation: an unreadable body is an error; the policy's refusal and a wrong code are denials.
    ("dr.demo", "POST", "/break-glass", b"{bad", 400, "break_glass.activate", "error", None),
    ("dr.demo", "POST", "/break-glass", b'{"patient": "demo-pat-0002", "patient": "demo-pat-0003"}', 400,
     "break_glass.activate", "error", None),
    ("compliance.demo", "POST", "/reviews/{grant}",
     b'{"disposition": "unjustified", "disposition": "justified"}', 400, "review.complete", "error", "{grant}"),
    ("dr.demo", "POST", "/break-glass", b"patient=demo-pat-0003", 415, "break_glass.activate", "error", None),
    ("compliance.demo", "POST", "/break-glass", activation("000000"), 403, "break_glass.activate", "denied", None),
    ("dr.demo", "POST", "/break-glass", activation("000000", patient="demo-pat-0003"), 403, "break_glass.activate",
     "denied", None),
])
def test_every_refused_call_leaves_one_entry_with_its_real_status(refusals, who, method, path, body, status, event,
                                                                  outcome, grant):
    server, users, real_grant = refusals
    content_type = "text/plain" if status == 415 else "application/json"
    response, request_id = send(server, users[who], method, path.format(grant=real_grant), body, content_type)
    assert response.status_code == status, response.text
    entries = recorded(server, request_id)
    assert len(entries) == 1, entries
    entry = entries[0]
    assert (entry["event"], entry["outcome"], entry["status"]) == (event, outcome, status)
    assert entry["actor"] == who and entry["roles"]
    assert entry.get("grant") == (grant.format(grant=real_grant) if grant else None)


def test_a_grant_that_is_not_yours_is_refused_like_one_that_does_not_exist(refusals):
    server, users, real_grant = refusals
    theirs, theirs_id = send(server, users["dr.colleague"], "DELETE", f"/break-glass/{real_grant}")
    missing, missing_id = send(server, users["dr.colleague"], "DELETE", f"/break-glass/{UNKNOWN_GRANT}")
    assert (theirs.status_code, missing.status_code) == (403, 403)
    assert theirs.json()["detail"] == missing.json()["detail"]
    # The entries tell the investigator what the caller was not told.
    (not_theirs,), (unknown,) = recorded(server, theirs_id), recorded(server, missing_id)
    assert not_theirs["rule"] == unknown["rule"] == "deny.not_grant_holder"
    assert "reason" not in not_theirs.get("details", {})
    assert unknown["details"]["reason"] == "no_such_grant"


def test_the_review_list_says_when_a_limit_cut_it_short(tmp_path):
    receiver = Receiver()
    server, passwords, totp = start_demo(receiver)
    try:
        clinician = login(server, "dr.demo", passwords["dr.demo"])
        compliance = login(server, "compliance.demo", passwords["compliance.demo"])
        grants = []
        for steps, patient in ((-1, "demo-pat-0002"), (0, "demo-pat-0003")):
            granted = post(server, "/break-glass", clinician, activation(code(totp["dr.demo"], steps), patient=patient))
            assert granted.status_code == 201, granted.text
            grants.append(granted.json()["id"])

        def listed(**params):
            response = requests.get(server.url("/reviews"), headers=compliance, params=params, timeout=30)
            assert response.status_code == 200, response.text
            return response.json()

        every = listed(status="pending")
        assert every["more"] is False and sorted(r["grant"]["id"] for r in every["reviews"]) == sorted(grants)
        first = listed(status="pending", limit=1)
        assert first["more"] is True and len(first["reviews"]) == 1
        assert first["reviews"][0]["grant"]["id"] == every["reviews"][0]["grant"]["id"]
        assert listed(status="pending", limit=2)["more"] is False
        assert listed(status="completed") == {"more": False, "reviews": []}
    finally:
        server.stop()
        receiver.stop()


def test_ending_a_grant_twice_is_recorded_both_times(refusals):
    server, users, real_grant = refusals
    first, first_id = send(server, users["security.demo"], "DELETE", f"/break-glass/{real_grant}")
    assert first.status_code == 200, first.text
    again, again_id = send(server, users["security.demo"], "DELETE", f"/break-glass/{real_grant}")
    assert again.status_code == 409, again.text
    (ended,), (refused,) = recorded(server, first_id), recorded(server, again_id)
    assert (ended["outcome"], ended["status"], ended["grant"]) == ("allowed", 200, real_grant)
    assert (refused["outcome"], refused["status"], refused["grant"]) == ("error", 409, real_grant)
