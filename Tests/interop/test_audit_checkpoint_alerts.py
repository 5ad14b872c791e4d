"""Signed checkpoints leave the machine as `audit.checkpoint` webhook events: each one as it is
signed, and at start-up the newest one again if its event never reached the outbox (a crash
between the audit commit and the outbox insert)."""

from __future__ import annotations

import base64
import json
import os
import sqlite3

import requests
from standardwebhooks.webhooks import Webhook

from phigate_process import start_server
from test_audit import cli, demo_server, login
from webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def checkpoint_events(receiver, count):
    return [Webhook(SECRET).verify(delivery["body"], delivery["headers"])["data"]
            for delivery in receiver.wait_for("audit.checkpoint", count=count)]


def verifies_against(data_dir, note, tmp_path):
    anchor = tmp_path / f"anchor-{os.urandom(4).hex()}.txt"
    anchor.write_text(note)
    out = cli(data_dir, "audit", "verify", "--anchor", str(anchor))
    return out.returncode == 0 and "anchor matched" in out.stdout


def stored_checkpoints(data_dir):
    db = sqlite3.connect(f"file:{data_dir}/audit.sqlite?mode=ro", uri=True)
    try:
        return [size for (size,) in db.execute("SELECT size FROM audit_checkpoints ORDER BY size")]
    finally:
        db.close()


def test_every_checkpoint_goes_out_signed_and_the_newest_is_raised_again_when_it_was_lost(tmp_path):
    data_dir = str(tmp_path / "data")
    receiver = Receiver()
    env = {"PHIGATE_AUDIT_CHECKPOINT_EVERY": "5",
           "PHIGATE_WEBHOOKS": json.dumps([{"url": receiver.url, "secret": SECRET, "events": ["audit.*"]}])}
    try:
        server, passwords = demo_server(data_dir=data_dir, env=env)
        try:
            headers = login(server, "dr.demo", passwords["dr.demo"])
            for _ in range(6):
                assert requests.get(server.url("/fhir/Patient/demo-pat-0001"), headers=headers,
                                    timeout=30).status_code == 200
            first = checkpoint_events(receiver, 1)[0]
            assert first["size"] % 5 == 0 and first["signed_note"].split("\n")[1] == str(first["size"])
        finally:
            server.stop()
        sizes = stored_checkpoints(data_dir)
        received = checkpoint_events(receiver, len(sizes))
        assert sorted(event["size"] for event in received) == sizes, "one event per checkpoint, none twice"
        newest = next(event for event in received if event["size"] == sizes[-1])
        assert verifies_against(data_dir, newest["signed_note"], tmp_path)

        # As if the gateway had died after signing its last checkpoint, before the outbox insert.
        records = sqlite3.connect(os.path.join(data_dir, "phigate.sqlite"))
        with records:
            ids = [row[0] for row in records.execute(
                "SELECT id FROM webhook_events WHERE type = 'audit.checkpoint' "
                "ORDER BY json_extract(CAST(body AS TEXT), '$.data.size') DESC LIMIT 1")]
            assert len(ids) == 1
            records.execute("DELETE FROM webhook_attempts WHERE delivery_id IN "
                            "(SELECT id FROM webhook_deliveries WHERE event_id = ?)", ids)
            records.execute("DELETE FROM webhook_deliveries WHERE event_id = ?", ids)
            records.execute("DELETE FROM webhook_events WHERE id = ?", ids)
        records.close()
        before = len(receiver.accepted("audit.checkpoint"))
        server = start_server(data_dir=data_dir, env={**env, "PHIGATE_DEMO": "true"})
        try:
            again = checkpoint_events(receiver, before + 1)[before:]
            assert [event["size"] for event in again] == [sizes[-1]]
            assert again[0]["signed_note"] == newest["signed_note"]
            assert server.stderr.wait_for(lambda r: r.get("msg") == "webhooks.checkpoint_reraised", 10) is not None
        finally:
            server.stop()
        # The restart's own checkpoints follow, its last one (signed at shutdown) before the
        # gateway exits; nothing that was already sent went out twice.
        final = checkpoint_events(receiver, len(stored_checkpoints(data_dir)) + 1)
        assert sorted(event["size"] for event in final) == sorted(stored_checkpoints(data_dir) + [sizes[-1]])

        # A start after a clean stop sends no old checkpoint again: the last one was delivered
        # and marked so before the gateway exited.
        delivered = len(receiver.accepted("audit.checkpoint"))
        server = start_server(data_dir=data_dir, env={**env, "PHIGATE_DEMO": "true"})
        try:
            assert server.stderr.wait_for(lambda r: r.get("msg") == "audit.verified", 20) is not None
        finally:
            server.stop()
        third = checkpoint_events(receiver, delivered + 1)[delivered:]
        assert [event["size"] for event in third] == [stored_checkpoints(data_dir)[-1]], third
    finally:
        receiver.stop()
