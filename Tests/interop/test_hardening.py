"""What phigate leaves on disk: owner-only files, and refusal of a data directory others can read."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from phigate_process import clean_environment, phigate_bin, start_server


def test_a_data_directory_open_to_others_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)
    result = subprocess.run([phigate_bin(), "serve"], capture_output=True, text=True, timeout=60,
                            env=clean_environment({"PHIGATE_DATA_DIR": str(data_dir),
                                                   "PHIGATE_LISTEN": "127.0.0.1:0"}))
    assert result.returncode == 78
    assert "data_dir" in result.stderr and "chmod 700" in result.stderr


def test_every_file_phigate_creates_is_owner_only(tmp_path):
    data_dir = tmp_path / "data"
    server = start_server(env={"PHIGATE_DEMO": "true"}, data_dir=str(data_dir))
    server.stop()
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    names = sorted(os.listdir(data_dir))
    assert {"phigate.sqlite", "audit.sqlite", "audit-signing.key", "secrets.key"} <= set(names)
    for name in names:
        mode = stat.S_IMODE(os.stat(data_dir / name).st_mode)
        if name == "audit-signing.pub":
            continue  # the public key is meant to be read
        assert mode & 0o077 == 0, f"{name} has mode {oct(mode)}"


@pytest.mark.parametrize("key,depends", [
    ("audit-signing.key", "signed audit checkpoints in audit.sqlite"),
    ("secrets.key", "sealed secrets (TOTP seeds, webhook secrets) in phigate.sqlite"),
])
def test_a_lost_key_that_data_depends_on_stops_start_up(tmp_path, key, depends):
    data_dir = tmp_path / "data"
    server = start_server(env={"PHIGATE_DEMO": "true"}, data_dir=str(data_dir))
    server.stop()
    public_before = (data_dir / "audit-signing.pub").read_bytes()
    os.remove(data_dir / key)
    result = subprocess.run([phigate_bin(), "serve"], capture_output=True, text=True, timeout=60,
                            env=clean_environment({"PHIGATE_DATA_DIR": str(data_dir), "PHIGATE_LISTEN": "127.0.0.1:0"}))
    assert result.returncode == 78, result.stderr
    assert f"{key} is missing" in result.stderr and depends in result.stderr
    assert "restore the key file from backup" in result.stderr
    assert not (data_dir / key).exists(), "no replacement key is made"
    assert (data_dir / "audit-signing.pub").read_bytes() == public_before


def test_keys_are_made_for_a_new_data_directory_only_while_nothing_depends_on_them(tmp_path):
    data_dir = tmp_path / "data"
    server = start_server(data_dir=str(data_dir))
    server.stop()
    # Without demo data nothing is sealed yet: a lost secrets key is simply made again.
    os.remove(data_dir / "secrets.key")
    server = start_server(data_dir=str(data_dir))
    server.stop()
    assert (data_dir / "secrets.key").exists()


def test_a_second_gateway_on_one_data_directory_refuses_to_start(tmp_path):
    import requests

    data_dir = tmp_path / "data"
    first = start_server(data_dir=str(data_dir))
    try:
        second = subprocess.run([phigate_bin(), "serve"], capture_output=True, text=True, timeout=60,
                                env=clean_environment({"PHIGATE_DATA_DIR": str(data_dir),
                                                       "PHIGATE_LISTEN": "127.0.0.1:0"}))
        assert second.returncode == 78, second.stderr
        assert "another phigate is already serving this data directory" in second.stderr
        assert requests.get(first.url("/readyz"), timeout=10).status_code == 200
    finally:
        first.stop()
    # The lock goes with the process: the next start takes it.
    again = start_server(data_dir=str(data_dir))
    again.stop()


def test_readyz_reports_a_records_database_that_takes_no_writes(tmp_path):
    import sqlite3
    import time

    import requests

    data_dir = tmp_path / "data"
    server = start_server(data_dir=str(data_dir))
    try:
        assert requests.get(server.url("/readyz"), timeout=10).json() == {"status": "ready"}
        holder = sqlite3.connect(str(data_dir / "phigate.sqlite"), isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")
        try:
            deadline = time.monotonic() + 20
            answer = None
            while time.monotonic() < deadline:
                answer = requests.get(server.url("/readyz"), timeout=10)
                if answer.status_code == 503:
                    break
                time.sleep(0.5)
            assert answer.status_code == 503 and "records" in answer.json()["failing"], answer.text
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and requests.get(server.url("/readyz"), timeout=10).status_code != 200:
            time.sleep(0.5)
        assert requests.get(server.url("/readyz"), timeout=10).json() == {"status": "ready"}
        messages = [r.get("msg") for r in server.log_records]
        assert "records.unavailable" in messages and "records.recovered" in messages
    finally:
        server.stop()


def test_one_client_cannot_take_every_connection(tmp_path):
    import socket
    server = start_server(env={"PHIGATE_HTTP_MAX_CONNECTIONS_PER_CLIENT": "5"})
    held = []
    try:
        for _ in range(5):
            held.append(socket.create_connection(server.address, timeout=5))
        extra = socket.create_connection(server.address, timeout=5)
        extra.settimeout(5)
        answer = extra.recv(4096)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
        held.pop().close()
        import time
        time.sleep(0.3)
        again = socket.create_connection(server.address, timeout=5)
        again.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert again.recv(4096).startswith(b"HTTP/1.1 200")
        again.close()
    finally:
        for sock in held:
            sock.close()
        server.stop()
