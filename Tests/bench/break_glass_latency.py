"""Break-glass alert latency: from `POST /break-glass` to the signed alert at a webhook receiver.

Usage: break_glass_latency.py URL PORT SECRET USERS_FILE RAW_OUT

URL is a running phigate (demo data, PHIGATE_WEBHOOKS pointing at
http://127.0.0.1:PORT/hook with SECRET for `break_glass.activated`). USERS_FILE has one
clinician per line, "name password totp-secret", each with an unconfirmed TOTP secret.

For each user in turn: log in, confirm the TOTP secret with the code of the current 30-second
step (which consumes that step), then take time.monotonic() and POST /break-glass for
demo-pat-0002 with the code of the next step. The activation's latency is the arrival time the
receiver recorded for the alert carrying that grant id, minus that start time. Activations run
one at a time and each alert is awaited (up to 30 s) before the next user starts, so no alert
queues behind another. Every delivery's signature is checked with the standardwebhooks library
after its arrival time was taken.

Prints one line of key=value figures for run.sh and writes one CSV row per activation to
RAW_OUT. Exits 1 when an activation is refused, or when an alert is missing or badly signed.
"""

from __future__ import annotations

import math
import sys
import time

import pyotp
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alert_receiver import AlertReceiver

PATIENT = "demo-pat-0002"
JUSTIFICATION = "Benchmark activation: unconscious patient in the ED."
ALERT_TIMEOUT_SECONDS = 30.0


def fail(message: str) -> None:
    print(f"break_glass_latency: {message}", file=sys.stderr)
    sys.exit(1)


def post(http: requests.Session, url: str, body: dict, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(url, json=body, headers=headers, timeout=30)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class AlertMatcher:
    """Walks the receiver's deliveries in order, checking each signature once."""

    def __init__(self, receiver: AlertReceiver, secret: str):
        self.receiver = receiver
        self.webhook = Webhook(secret)
        self.checked = 0
        self.verified = 0
        self.bad_signatures = 0
        self.arrivals: dict[str, float] = {}

    def wait_for(self, grant_id: str) -> float | None:
        """The arrival time of the first correctly signed alert for `grant_id`, or None."""
        deadline = time.monotonic() + ALERT_TIMEOUT_SECONDS
        while grant_id not in self.arrivals:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            seen = self.checked
            deliveries = self.receiver.wait_until(lambda d: len(d) > seen, left)
            for delivery in deliveries[seen:]:
                self.checked += 1
                self._check(delivery)
        return self.arrivals[grant_id]

    def _check(self, delivery: dict) -> None:
        try:
            payload = self.webhook.verify(delivery["body"], delivery["headers"])
        except WebhookVerificationError:
            self.bad_signatures += 1
            return
        self.verified += 1
        if payload.get("type") != "break_glass.activated":
            return
        data = payload.get("data", {})
        # The alert names the grant and patient; the justification stays in the review queue.
        if data.get("patient") == PATIENT and "justification" not in data:
            self.arrivals.setdefault(data.get("grant_id"), delivery["at"])


def main() -> None:
    if len(sys.argv) != 6:
        fail("usage: break_glass_latency.py URL PORT SECRET USERS_FILE RAW_OUT")
    url, port, secret, users_file, raw_out = sys.argv[1:]
    users = [line.split() for line in open(users_file) if line.strip()]
    receiver = AlertReceiver(int(port))
    matcher = AlertMatcher(receiver, secret)
    http = requests.Session()
    rows = []
    try:
        for name, password, totp_secret in users:
            totp = pyotp.TOTP(totp_secret)
            login = post(http, url + "/auth/login", {"username": name, "password": password})
            if login.status_code != 200:
                fail(f"login of {name} answered {login.status_code}: {login.text[:200]}")
            token = login.json()["access_token"]
            confirm = post(http, url + "/auth/totp/confirm", {"code": totp.now()}, token)
            if confirm.status_code != 200:
                fail(f"TOTP confirmation of {name} answered {confirm.status_code}: {confirm.text[:200]}")
            body = {"patient": PATIENT, "reason": "emergency-treatment",
                    "justification": JUSTIFICATION, "totp": totp.at(time.time() + 30),
                    "acknowledge": True}
            started = time.monotonic()
            activation = post(http, url + "/break-glass", body, token)
            answered = time.monotonic()
            if activation.status_code != 201:
                fail(f"break-glass of {name} answered {activation.status_code}: "
                     f"{activation.text[:200]}")
            grant_id = activation.json()["id"]
            arrived = matcher.wait_for(grant_id)
            if arrived is None:
                # One missing alert already fails the run; waiting out the rest would take minutes.
                fail(f"no signed break_glass.activated alert for {grant_id} within {ALERT_TIMEOUT_SECONDS:.0f} s "
                     f"({matcher.checked} deliveries seen, {matcher.bad_signatures} badly signed)")
            rows.append((name, grant_id, started, answered, arrived))
    finally:
        receiver.stop()

    with open(raw_out, "w") as out:
        out.write("user,grant,response_ms,alert_ms\n")
        for name, grant_id, started, answered, arrived in rows:
            alert_ms = "" if arrived is None else f"{(arrived - started) * 1000:.3f}"
            out.write(f"{name},{grant_id},{(answered - started) * 1000:.3f},{alert_ms}\n")

    latencies = sorted((a - s) * 1000 for _, _, s, _, a in rows if a is not None)
    responses = sorted((r - s) * 1000 for _, _, s, r, _ in rows)
    figures = {"activations": len(rows), "arrived": len(latencies),
               "deliveries": matcher.checked, "verified": matcher.verified,
               "bad_signatures": matcher.bad_signatures}
    if latencies:
        figures.update({"p50_ms": f"{percentile(latencies, 50):.1f}",
                        "p99_ms": f"{percentile(latencies, 99):.1f}",
                        "max_ms": f"{latencies[-1]:.1f}", "min_ms": f"{latencies[0]:.1f}",
                        "response_p50_ms": f"{percentile(responses, 50):.1f}",
                        "response_p99_ms": f"{percentile(responses, 99):.1f}"})
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    if len(latencies) != len(rows) or matcher.bad_signatures:
        fail(f"{len(rows) - len(latencies)} alerts missing, {matcher.bad_signatures} badly signed")


if __name__ == "__main__":
    main()
