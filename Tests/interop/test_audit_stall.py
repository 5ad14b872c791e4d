"""A stuck audit writer: another process holds the audit database's write lock, so no entry
can commit. Disclosures fail closed when the commit timeout passes, /readyz says the writer is
stuck (audit_commit), and both recover when the lock is released."""

from __future__ import annotations

import os
import sqlite3
import time

import requests

from test_audit import cli, demo_server, entries, login

PATIENT = "/fhir/Patient/demo-pat-0001"


def wait_for_status(url, status, headers=None, seconds=15):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = requests.get(url, headers=headers, timeout=30)
        if last.status_code == status:
            return last
        time.sleep(0.1)
    return last


def test_a_writer_held_by_a_lock_fails_closed_reports_not_ready_and_recovers(tmp_path):
    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir, env={"PHIGATE_AUDIT_COMMIT_TIMEOUT_MS": "400"})
    try:
        headers = login(server, "dr.demo", passwords["dr.demo"])
        assert requests.get(server.url(PATIENT), headers=headers, timeout=30).status_code == 200
        holder = sqlite3.connect(os.path.join(data_dir, "audit.sqlite"), isolation_level=None, timeout=5)
        holder.execute("BEGIN IMMEDIATE")
        try:
            refused = requests.get(server.url(PATIENT), headers=headers, timeout=30)
            assert refused.status_code == 503, refused.text
            assert refused.json()["resourceType"] == "OperationOutcome"
            assert "demo-pat-0001" not in refused.text
            ready = wait_for_status(server.url("/readyz"), 503)
            assert ready.status_code == 503 and ready.json()["failing"] == ["audit_commit"], ready.text
            stalled = server.stderr.wait_for(lambda r: r.get("msg") == "audit.stalled", 10)
            assert stalled is not None and stalled["audit.stall_threshold_ms"] == 400
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert wait_for_status(server.url("/readyz"), 200).status_code == 200
        assert server.stderr.wait_for(lambda r: r.get("msg") == "audit.moving", 10) is not None
        again = requests.get(server.url(PATIENT), headers=headers, timeout=30)
        assert again.status_code == 200 and again.json()["id"] == "demo-pat-0001"
    finally:
        server.stop()
    assert cli(data_dir, "audit", "verify").returncode == 0
    # The refused read's entry committed once the lock was gone: the log may hold a decision
    # whose response was a 503, never a 200 without its entry.
    reads = [e for e in entries(data_dir) if e["event"] == "fhir.read"]
    assert len(reads) == 3 and all(e["status"] == 200 for e in reads)
