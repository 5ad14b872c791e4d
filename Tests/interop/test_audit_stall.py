"""An audit writer in trouble while serving. Stuck: another process holds the audit database's
write lock, so no entry can commit; disclosures fail closed when the commit timeout passes,
/readyz says the writer is stuck (audit_commit), and both recover when the lock is released.
Full: the file system has no space left; disclosures fail closed, /readyz says the log cannot
be written (audit_log), and both recover when space returns. Queue full: past its capacity a
disclosure is refused at once (audit_queue)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time

import pytest
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


def fill(directory):
    """Writes a file in `directory` until its file system is full; returns its path."""
    path = os.path.join(directory, "filler")
    chunk = b"\0" * (1 << 20)
    with open(path, "wb", buffering=0) as file:
        while True:
            try:
                file.write(chunk)
            except OSError:
                break
        for size in (1 << 16, 1 << 12, 1 << 9):
            while True:
                try:
                    file.write(b"\0" * size)
                except OSError:
                    break
    return path


def test_a_full_disk_fails_closed_and_recovers_when_space_returns(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs as the data directory's file system")
    mountpoint = str(tmp_path / "small")
    os.mkdir(mountpoint)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", mountpoint],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    data_dir = os.path.join(mountpoint, "data")
    try:
        server, passwords = demo_server(data_dir=data_dir)
        try:
            headers = login(server, "dr.demo", passwords["dr.demo"])
            assert requests.get(server.url(PATIENT), headers=headers, timeout=30).status_code == 200
            filler = fill(mountpoint)
            # Once the WAL must grow, the commit fails: no response after that discloses PHI.
            statuses = []
            for _ in range(2000):
                response = requests.get(server.url(PATIENT), headers=headers, timeout=30)
                statuses.append(response.status_code)
                if response.status_code != 200:
                    break
            refused = response
            assert refused.status_code == 503, statuses[-5:]
            assert refused.json()["resourceType"] == "OperationOutcome" and "demo-pat-0001" not in refused.text
            ready = requests.get(server.url("/readyz"), timeout=30)
            assert ready.status_code == 503 and "audit_log" in ready.json()["failing"], ready.text
            unavailable = server.stderr.wait_for(lambda r: r.get("msg") == "audit.unavailable", 10)
            assert unavailable is not None and unavailable["error.store"] == "disk_full", unavailable
            os.remove(filler)
            assert wait_for_status(server.url("/readyz"), 200).status_code == 200
            again = requests.get(server.url(PATIENT), headers=headers, timeout=30)
            assert again.status_code == 200 and again.json()["id"] == "demo-pat-0001"
            served = [s for s in statuses if s == 200]
        finally:
            server.stop()
        # Every 200 has its entry; the chain is whole across the failure.
        assert cli(data_dir, "audit", "verify").returncode == 0
        allowed = [e for e in entries(data_dir) if e["event"] == "fhir.read" and e["outcome"] == "allowed"]
        assert len(allowed) >= len(served) + 2
    finally:
        subprocess.run(["umount", mountpoint], capture_output=True)


def test_a_full_audit_queue_refuses_at_once_and_reports_not_ready(tmp_path):
    """Entries pile up behind a held lock: past audit.queue_capacity a disclosure is refused at
    once with 503 (no waiting for the commit timeout), /readyz fails audit_queue, and the
    waiting reads are answered once the writer can commit again."""
    from concurrent.futures import ThreadPoolExecutor

    data_dir = str(tmp_path / "data")
    server, passwords = demo_server(data_dir=data_dir, env={"PHIGATE_AUDIT_QUEUE_CAPACITY": "4",
                                                            "PHIGATE_AUDIT_COMMIT_TIMEOUT_MS": "10000"})
    try:
        headers = login(server, "dr.demo", passwords["dr.demo"])
        assert requests.get(server.url(PATIENT), headers=headers, timeout=30).status_code == 200
        holder = sqlite3.connect(os.path.join(data_dir, "audit.sqlite"), isolation_level=None, timeout=5)
        holder.execute("BEGIN IMMEDIATE")
        released = False
        try:
            with ThreadPoolExecutor(max_workers=16) as pool:
                def read(_):
                    started = time.monotonic()
                    response = requests.get(server.url(PATIENT), headers=headers, timeout=30)
                    return response, time.monotonic() - started

                futures = [pool.submit(read, n) for n in range(16)]
                ready = wait_for_status(server.url("/readyz"), 503)
                assert "audit_queue" in ready.json()["failing"], ready.text
                full = server.stderr.wait_for(lambda r: r.get("msg") == "audit.queue_full", 10)
                assert full is not None and full["audit.queue_capacity"] == 4
                holder.execute("ROLLBACK")
                released = True
                results = [future.result() for future in futures]
        finally:
            if not released:
                holder.execute("ROLLBACK")
            holder.close()
        refused = [(r, t) for r, t in results if r.status_code == 503]
        answered = [r for r, _ in results if r.status_code == 200]
        assert refused and answered and len(refused) + len(answered) == 16
        for response, seconds in refused:
            assert response.json()["resourceType"] == "OperationOutcome" and "demo-pat-0001" not in response.text
            assert seconds < 5, "a full queue refuses at once, without waiting for the commit timeout"
        assert wait_for_status(server.url("/readyz"), 200).status_code == 200
        assert server.stderr.wait_for(lambda r: r.get("msg") == "audit.queue_drained", 10) is not None
    finally:
        server.stop()
    assert cli(data_dir, "audit", "verify").returncode == 0
