"""HTTPS: protocol versions and suites, plain HTTP on the TLS port, mutual TLS for bound
ehr-system accounts, and a testssl.sh scan."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

from phigate_process import clean_environment, phigate_bin, start_server

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command line is needed")
CREDENTIAL = re.compile(r"^\s+(\S+)\s+(clinician|registrar|compliance|security-admin|ehr-system)\s+(\S+)\s*$")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "365", "-subj", "/CN=phigate test CA", cwd=d)
    # Like a real deployment's certificate: valid for months and naming where revocation is
    # published, so that testssl judges the server's configuration rather than the test PKI.
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                                  "crlDistributionPoints=URI:http://127.0.0.1:9/phigate-test-ca.crl\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subject in (("server", "/CN=localhost"), ("client", "/CN=ehr.demo/O=Demo EHR"),
                          ("other", "/CN=intruder")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", "-subj", subject, cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "90", "-extfile", "server.ext", cwd=d)
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "client.pem", "-days", "2", "-extfile", "client.ext", cwd=d)
    openssl("x509", "-req", "-in", "other.csr", "-signkey", "other.key", "-out", "other.pem", "-days", "2", cwd=d)
    for key in d.glob("*.key"):
        os.chmod(key, 0o600)
    return d


@pytest.fixture(scope="module")
def tls_server(pki):
    env = {"PHIGATE_TLS_CERT": str(pki / "server.pem"), "PHIGATE_TLS_KEY": str(pki / "server.key"),
           "PHIGATE_TLS_CLIENT_CA": str(pki / "ca.pem"), "PHIGATE_DEMO": "true"}
    server = start_server(env=env)
    deadline = time.monotonic() + 30
    passwords = {}
    while time.monotonic() < deadline and "ehr.demo" not in passwords:
        for line in server.stdout.lines:
            if m := CREDENTIAL.match(line):
                passwords[m.group(1)] = m.group(3)
        time.sleep(0.05)
    yield server, passwords
    server.stop()


def https(server, path):
    return f"https://127.0.0.1:{server.port}{path}"


def s_client(server, *args):
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", *args],
                          input=b"", capture_output=True, timeout=30)


def test_https_with_curl_and_requests(tls_server, pki):
    server, _ = tls_server
    curl = subprocess.run(["curl", "-sS", "--cacert", str(pki / "ca.pem"), https(server, "/healthz")],
                          capture_output=True, text=True, timeout=30)
    assert curl.returncode == 0, curl.stderr
    assert json.loads(curl.stdout) == {"status": "ok"}
    response = requests.get(https(server, "/fhir/metadata"), verify=str(pki / "ca.pem"), timeout=30)
    assert response.status_code == 200
    assert response.json()["implementation"]["url"].startswith("https://")


@pytest.mark.parametrize("flag,ok", [("-tls1_3", True), ("-tls1_2", True), ("-tls1_1", False), ("-tls1", False)])
def test_protocol_versions(tls_server, pki, flag, ok):
    server, _ = tls_server
    result = s_client(server, flag, "-CAfile", str(pki / "ca.pem"))
    established = b"Verify return code: 0 (ok)" in result.stdout and b"Cipher is (NONE)" not in result.stdout
    assert established == ok, result.stdout.decode(errors="replace")[-600:]


@pytest.mark.parametrize("cipher", ["AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "DES-CBC3-SHA"])
def test_weak_or_non_forward_secret_suites_fail(tls_server, cipher):
    server, _ = tls_server
    result = s_client(server, "-tls1_2", "-cipher", cipher)
    assert b"Cipher is (NONE)" in result.stdout or result.returncode != 0


def test_alpn_http11(tls_server, pki):
    server, _ = tls_server
    result = s_client(server, "-alpn", "h2,http/1.1", "-CAfile", str(pki / "ca.pem"))
    assert b"ALPN protocol: http/1.1" in result.stdout


def test_plain_http_on_the_tls_port_fails_cleanly(tls_server):
    server, _ = tls_server
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]


def fingerprint(path):
    out = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-fingerprint", "-sha256"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def test_a_bound_ehr_system_needs_its_client_certificate(tls_server, pki):
    server, passwords = tls_server
    bound = subprocess.run([phigate_bin(), "user", "bind-cert", "ehr.demo", "--fingerprint",
                            fingerprint(pki / "client.pem")], capture_output=True, text=True, timeout=60,
                           env=clean_environment({"PHIGATE_DATA_DIR": server.data_dir}))
    assert bound.returncode == 0, bound.stderr
    ca = str(pki / "ca.pem")
    login = requests.post(https(server, "/auth/login"), json={"username": "ehr.demo", "password": passwords["ehr.demo"]},
                          verify=ca, cert=(str(pki / "client.pem"), str(pki / "client.key")), timeout=30)
    token = {"Authorization": f"Bearer {login.json()['access_token']}", "X-On-Behalf-Of": "dr.demo"}
    time.sleep(1.1)  # past the session cache
    url = https(server, "/fhir/Patient/demo-pat-0001")
    without = requests.get(url, headers=token, verify=ca, timeout=30)
    assert without.status_code == 401
    wrong = requests.get(url, headers=token, verify=ca, cert=(str(pki / "other.pem"), str(pki / "other.key")),
                         timeout=30)
    assert wrong.status_code == 401
    right = requests.get(url, headers=token, verify=ca, cert=(str(pki / "client.pem"), str(pki / "client.key")),
                         timeout=30)
    assert right.status_code == 200, right.text
    # Logging in without the certificate, or with another, mints no token and answers as a
    # wrong password does; the audit log says why.
    credentials = {"username": "ehr.demo", "password": passwords["ehr.demo"]}
    wrong_password = requests.post(https(server, "/auth/login"), verify=ca, timeout=30,
                                   json={**credentials, "password": "not-the-password"})
    for cert in (None, (str(pki / "other.pem"), str(pki / "other.key"))):
        refused = requests.post(https(server, "/auth/login"), json=credentials, verify=ca, cert=cert, timeout=30)
        assert refused.status_code == 401
        assert "access_token" not in refused.text
        assert refused.json()["detail"] == wrong_password.json()["detail"]
    export = subprocess.run([phigate_bin(), "audit", "export", "--format", "ndjson"], capture_output=True,
                            text=True, timeout=60, env=clean_environment({"PHIGATE_DATA_DIR": server.data_dir}))
    logins = [json.loads(line) for line in export.stdout.splitlines()
              if json.loads(line)["event"] == "auth.login" and json.loads(line)["actor"] == "ehr.demo"]
    reasons = [e.get("details", {}).get("reason") for e in logins if e["outcome"] == "denied"]
    assert reasons.count("certificate_required") == 2, logins


def test_a_readable_key_is_refused(pki, tmp_path):
    loose = tmp_path / "loose.key"
    shutil.copy(pki / "server.key", loose)
    os.chmod(loose, 0o644)
    result = subprocess.run([phigate_bin(), "serve"], capture_output=True, text=True, timeout=60,
                            env=clean_environment({"PHIGATE_TLS_CERT": str(pki / "server.pem"),
                                                   "PHIGATE_TLS_KEY": str(loose),
                                                   "PHIGATE_DATA_DIR": str(tmp_path / "d"),
                                                   "PHIGATE_LISTEN": "127.0.0.1:0"}))
    assert result.returncode == 78
    assert "tls.key" in result.stderr


def test_a_certificate_about_to_expire_is_logged_at_start(tls_server, pki):
    server, _ = tls_server
    assert not [r for r in server.log_records if r.get("msg", "").startswith("tls.certificate_")], \
        "a certificate valid for 90 days is not worth a warning"
    soon = start_server(env={"PHIGATE_TLS_CERT": str(pki / "other.pem"), "PHIGATE_TLS_KEY": str(pki / "other.key")})
    try:
        warning = soon.stderr.wait_for(lambda r: r.get("msg") == "tls.certificate_expiring", 10)
        assert warning is not None and warning["level"] == "warning"
        assert warning["tls.days_left"] == 1  # issued for two days, moments ago
        assert soon.alive(), "a late renewal is logged, not turned into an outage"
    finally:
        soon.stop()


@pytest.mark.skipif(shutil.which("testssl") is None and shutil.which("testssl.sh") is None,
                    reason="testssl.sh is not installed (make deps installs it)")
def test_testssl_finds_nothing_high_or_critical(tls_server, pki, tmp_path):
    server, _ = tls_server
    tool = shutil.which("testssl") or shutil.which("testssl.sh")
    report = tmp_path / "testssl.json"
    subprocess.run([tool, "--quiet", "--color", "0", "--warnings", "off", "--fast", "--ip", "127.0.0.1",
                    "--add-ca", str(pki / "ca.pem"),
                    "--jsonfile", str(report), f"localhost:{server.port}"], capture_output=True, timeout=900)
    findings = json.loads(report.read_text())
    serious = [(f["id"], f.get("finding")) for f in findings if f.get("severity") in ("HIGH", "CRITICAL")]
    assert serious == [], serious


def test_alerts_over_https_reach_only_receivers_the_configured_ca_trusts(pki):
    import base64

    from webhook_receiver import Receiver

    trusted = Receiver(certfile=str(pki / "server.pem"), keyfile=str(pki / "server.key"))
    untrusted = Receiver(certfile=str(pki / "other.pem"), keyfile=str(pki / "other.key"))
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    hooks = [{"url": r.url, "secret": secret, "events": ["auth.lockout"]} for r in (trusted, untrusted)]
    server = start_server(env={"PHIGATE_ALERTS_CA_FILE": str(pki / "ca.pem"), "PHIGATE_WEBHOOKS": json.dumps(hooks),
                               "PHIGATE_ALERTS_RETRY_BASE_MILLISECONDS": "100"})
    try:
        for _ in range(5):
            requests.post(server.url("/auth/login"), json={"username": "someone", "password": "wrong password!"},
                          timeout=30)
        arrived = trusted.wait_for("auth.lockout", timeout=20)
        assert arrived, "the receiver with a certificate from the configured CA got nothing"
        time.sleep(1.5)
        assert untrusted.deliveries == [], "a receiver outside the configured CA must not get alerts"
    finally:
        server.stop()
        trusted.stop()
        untrusted.stop()
