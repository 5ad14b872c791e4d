"""Every start verifies the whole audit log in the background while the gateway serves: an
intact log is noted, a tampered one is logged, raised as `audit.verify_failed` and recorded in
the log itself, so tampering is found at the next start at the latest."""

from __future__ import annotations

import base64
import json
import os
import sqlite3

from standardwebhooks.webhooks import Webhook

from phigate_process import start_server
from test_audit import demo_server, entries, login, read_patient
from webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def gateway_checks(data_dir):
    return [e for e in entries(data_dir) if e["event"] == "audit.verify" and e["actor"] == "phigate"]


def test_each_start_verifies_the_log_and_a_tampered_one_is_reported(tmp_path):
    data_dir = str(tmp_path / "data")
    receiver = Receiver()
    env = {"PHIGATE_DEMO": "true",
           "PHIGATE_WEBHOOKS": json.dumps([{"url": receiver.url, "secret": SECRET, "events": ["audit.*"]}])}
    try:
        server, passwords = demo_server(data_dir=data_dir, env=env)
        try:
            verified = server.stderr.wait_for(lambda r: r.get("msg") == "audit.verified", 20)
            assert verified is not None and verified["audit.entries"] >= 1
            read_patient(server, login(server, "dr.demo", passwords["dr.demo"]))
        finally:
            server.stop()
        first = gateway_checks(data_dir)
        assert [(e["outcome"], e["details"]["trigger"]) for e in first] == [("allowed", "start")]

        # Someone with the file edits a read's patient: the stored hash no longer matches.
        db = sqlite3.connect(os.path.join(data_dir, "audit.sqlite"))
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        (seq,) = db.execute("SELECT seq FROM audit_log WHERE CAST(entry AS TEXT) LIKE '%\"fhir.read\"%' "
                            "ORDER BY seq LIMIT 1").fetchone()
        db.execute("UPDATE audit_log SET entry = CAST(replace(CAST(entry AS TEXT), 'demo-pat-0001', "
                   "'demo-pat-0002') AS BLOB) WHERE seq = ?", (seq,))
        db.commit()
        db.close()

        server = start_server(data_dir=data_dir, env=env)
        try:
            failed = server.stderr.wait_for(lambda r: r.get("msg") == "audit.verify_failed", 20)
            assert failed is not None, "the start-up check reports the tampering"
            assert (failed["audit.seq"], failed["audit.reason"]) == (seq, "hash_mismatch")
            alert = receiver.wait_for("audit.verify_failed")
            assert alert, "the security team is told without asking"
            data = Webhook(SECRET).verify(alert[0]["body"], alert[0]["headers"])["data"]
            assert (data["first_bad_seq"], data["reason"]) == (seq, "hash_mismatch")
        finally:
            server.stop()
        checks = gateway_checks(data_dir)
        assert len(checks) == 2 and checks[1]["outcome"] == "error"
        assert checks[1]["details"]["first_bad_seq"] == str(seq) and checks[1]["details"]["reason"] == "hash_mismatch"
    finally:
        receiver.stop()


def test_a_newest_entry_that_does_not_decode_does_not_keep_the_gateway_from_serving(tmp_path):
    """A torn or edited last row: the gateway cannot tell how the last run ended, records an
    unclean shutdown, serves, and its start-up check names the row."""
    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir)
    server.stop()
    db = sqlite3.connect(os.path.join(data_dir, "audit.sqlite"))
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    (last,) = db.execute("SELECT max(seq) FROM audit_log").fetchone()
    db.execute("UPDATE audit_log SET entry = x'ff00fe' WHERE seq = ?", (last,))
    db.commit()
    db.close()
    server = start_server(data_dir=data_dir, env={"PHIGATE_DEMO": "true"})
    try:
        failed = server.stderr.wait_for(lambda r: r.get("msg") == "audit.verify_failed", 20)
        assert failed is not None and failed["audit.seq"] == last, failed
        headers = login(server, "dr.demo", passwords["dr.demo"])
        read_patient(server, headers, 1)
    finally:
        server.stop()
    unclean = [e for e in entries_after(data_dir, last) if e["event"] == "server.unclean_shutdown"]
    assert [e["details"] for e in unclean] == [{"last_seq": str(last), "last_event": "(unreadable)"}]


def entries_after(data_dir, seq):
    db = sqlite3.connect(f"file:{data_dir}/audit.sqlite?mode=ro", uri=True)
    try:
        return [json.loads(bytes(entry)) for (entry,) in
                db.execute("SELECT entry FROM audit_log WHERE seq > ? ORDER BY seq", (seq,))]
    finally:
        db.close()
