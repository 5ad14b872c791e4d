"""The audit command line from the outside: anchors as people save them, plain one-line errors,
exit status 64 for every usage error (of the other commands too) and 78 for an invalid
configuration, and the bounds of the time filters."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess

import pytest

from phigate_process import clean_environment, phigate_bin, start_server


def cli(data_dir, *args, env=None):
    return subprocess.run([phigate_bin(), *args], env=clean_environment({"PHIGATE_DATA_DIR": data_dir, **(env or {})}),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory):
    """A data directory whose audit log has a few entries and a checkpoint over all of them."""
    data_dir = str(tmp_path_factory.mktemp("audit-cli") / "data")
    for name in ("nurse.one", "nurse.two"):
        added = subprocess.run([phigate_bin(), "user", "add", name, "--role", "registrar", "--password-stdin"],
                               input="registrar-password-9\n", capture_output=True, text=True, timeout=60,
                               env=clean_environment({"PHIGATE_DATA_DIR": data_dir}))
        assert added.returncode == 0, added.stderr
    server = start_server(data_dir=data_dir)
    server.stop()
    return data_dir


def latest_note(data_dir):
    db = sqlite3.connect(f"file:{data_dir}/audit.sqlite?mode=ro", uri=True)
    try:
        size, note = db.execute("SELECT size, signed_note FROM audit_checkpoints ORDER BY size DESC").fetchone()
        (head,) = db.execute("SELECT max(seq) FROM audit_log").fetchone()
    finally:
        db.close()
    assert size == head, "the shutdown checkpoint covers the whole log"
    return note


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def no_dump(text):
    for internal in ("Error Domain", "NSCocoaErrorDomain", "HTTPProblem", "StoreError(", "AuditError("):
        assert internal not in text, text


@pytest.mark.parametrize("form", [
    "exact", "jq -r (one extra newline)", "no final newline", "crlf", "crlf and blank lines",
])
def test_anchor_saved_with_other_line_ends_verifies(log_dir, tmp_path, form):
    note = latest_note(log_dir)
    text = {
        "exact": note,
        "jq -r (one extra newline)": note + "\n",
        "no final newline": note.rstrip("\n"),
        "crlf": note.replace("\n", "\r\n"),
        "crlf and blank lines": note.replace("\n", "\r\n") + "\r\n\r\n",
    }[form]
    anchor = tmp_path / "anchor.txt"
    anchor.write_bytes(text.encode())
    out = cli(log_dir, "audit", "verify", "--anchor", str(anchor))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "anchor matched" in out.stdout


def test_anchor_from_the_checkpoints_endpoint_through_jq(log_dir, tmp_path):
    """`jq -r .checkpoints[-1].signed_note > a.txt` writes the note and one more newline."""
    body = json.dumps({"checkpoints": [{"signed_note": latest_note(log_dir)}]})
    jq = subprocess.run(["jq", "-r", ".checkpoints[-1].signed_note"], input=body, capture_output=True, text=True)
    if jq.returncode != 0 and "not found" in jq.stderr:
        pytest.skip("jq is not installed")
    anchor = tmp_path / "a.txt"
    anchor.write_text(jq.stdout)
    out = cli(log_dir, "audit", "verify", "--anchor", str(anchor))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("form,reason,message", [
    ("no blank line", "anchor_malformed", "the anchor is not a signed note"),
    ("not text at all", "anchor_malformed", "the anchor is not a signed note"),
    ("edited time", "anchor_invalid", "the anchor is not a checkpoint signed by the audit key"),
])
def test_broken_anchor_is_named_for_what_it_is(log_dir, tmp_path, form, reason, message):
    note = latest_note(log_dir)
    text = {
        "no blank line": note.replace("\n\n", "\n"),
        "not text at all": "hello\n",
        "edited time": note.replace("\ntime ", "\ntime 9", 1),
    }[form]
    anchor = tmp_path / "anchor.txt"
    anchor.write_text(text)
    out = cli(log_dir, "audit", "verify", "--anchor", str(anchor))
    assert out.returncode == 1
    assert reason in out.stdout and message in out.stdout, out.stdout
    report = json.loads(cli(log_dir, "audit", "verify", "--anchor", str(anchor), "--json").stdout)
    assert report["first_bad"]["reason"] == reason


@pytest.mark.parametrize("option,what", [("--public-key", "the public key file"), ("--anchor", "the anchor file")])
def test_a_missing_file_is_one_plain_line(log_dir, tmp_path, option, what):
    missing = str(tmp_path / "nowhere.txt")
    out = cli(log_dir, "audit", "verify", option, missing)
    assert out.returncode == 1
    line = one_line(out.stderr)
    no_dump(line)
    assert f"cannot read {what} {missing}: no such file" in line


def test_a_public_key_that_is_not_one_is_named(log_dir, tmp_path):
    key = tmp_path / "key.pub"
    key.write_text("not a key\n")
    out = cli(log_dir, "audit", "verify", "--public-key", str(key))
    assert out.returncode == 1
    line = one_line(out.stderr)
    assert "is not an Ed25519 public key" in line and "not a key" not in line


def test_a_missing_database_is_one_plain_line(log_dir, tmp_path):
    for verb in (["verify"], ["export", "--format", "ndjson"]):
        out = cli(log_dir, "audit", *verb, "--db", str(tmp_path / "none.sqlite"))
        assert out.returncode == 1
        assert "no audit database at" in one_line(out.stderr)


@pytest.mark.parametrize("args,says", [
    (["export", "--format", "xml"], "--format is ndjson, fhir or cef"),
    (["export"], "--format is required"),
    (["export", "--format", "ndjson", "--outcome", "maybe"], "outcome is allowed, denied or error"),
    (["export", "--format", "ndjson", "--since", "yesterday"], "since must be"),
    (["export", "--format", "ndjson", "--limit", "0"], "limit is a positive number"),
    (["export", "--format", "ndjson", "--json"], "unknown option --json"),
    (["export", "--format", "ndjson", "--format", "cef"], "--format is given more than once"),
    (["export", "--format=ndjson", "--actor", "a", "--actor=b"], "--actor is given more than once"),
    (["verify", "--db", "a.sqlite", "--db", "b.sqlite"], "--db is given more than once"),
    (["verify", "--json", "--json"], "--json is given more than once"),
    (["verify", "--bogus", "x"], "unknown option --bogus"),
    (["verify", "--anchor"], "--anchor needs a value"),
    (["verify", "--db", "--json"], "--db needs a value"),
    (["verify", "--db", ""], "--db needs a value"),
    (["verify", "stray"], "unexpected argument 'stray'"),
    (["verify", "--checkpoint-every", "0"], "--checkpoint-every is a positive number of entries"),
    (["verify", "--checkpoint-every=-5"], "--checkpoint-every is a positive number of entries"),
    (["verify", "--checkpoint-every", "ten"], "--checkpoint-every is a positive number of entries"),
    (["verify", "--checkpoint-every"], "--checkpoint-every needs a value"),
    (["check"], "unknown subcommand 'check'"),
    (["verify", "--config", "a.json", "--config", "b.json"], "--config is given more than once"),
    (["verify", "--config"], "--config needs a file"),
])
def test_usage_errors_exit_64_with_one_line(log_dir, args, says):
    out = cli(log_dir, "audit", *args)
    assert out.returncode == 64, out.stdout + out.stderr
    line = one_line(out.stderr)
    no_dump(line)
    assert says in line
    assert out.stdout == ""


def test_since_is_inclusive_and_until_exclusive(log_dir):
    out = cli(log_dir, "audit", "export", "--format", "ndjson")
    assert out.returncode == 0, out.stderr
    log = [json.loads(line) for line in out.stdout.splitlines()]
    time = log[-1]["time"]
    at_that_time = {e["seq"] for e in log if e["time"] == time}
    since = cli(log_dir, "audit", "export", "--format", "ndjson", "--since", str(time))
    until = cli(log_dir, "audit", "export", "--format=ndjson", f"--until={time}")
    assert since.returncode == 0 and until.returncode == 0, since.stderr + until.stderr
    assert at_that_time <= {json.loads(line)["seq"] for line in since.stdout.splitlines()}
    assert not at_that_time & {json.loads(line)["seq"] for line in until.stdout.splitlines()}


def test_export_in_parts_with_limit_and_cursor(log_dir):
    whole = cli(log_dir, "audit", "export", "--format", "ndjson")
    assert whole.returncode == 0, whole.stderr
    seqs = [json.loads(line)["seq"] for line in whole.stdout.splitlines()]
    assert len(seqs) >= 4
    first = cli(log_dir, "audit", "export", "--format", "ndjson", "--limit", "2")
    rest = cli(log_dir, "audit", "export", "--format", "ndjson", "--cursor", "2")
    assert first.returncode == 0 and rest.returncode == 0, first.stderr + rest.stderr
    assert [json.loads(line)["seq"] for line in first.stdout.splitlines()] == seqs[:2]
    assert [json.loads(line)["seq"] for line in rest.stdout.splitlines()] == seqs[2:]


@pytest.mark.parametrize("args", [["user"], ["care"]])
def test_a_command_without_its_subcommand_is_a_usage_error(log_dir, args):
    out = cli(log_dir, *args)
    assert out.returncode == 64, out.stdout + out.stderr
    assert "Usage:" in out.stderr


@pytest.mark.parametrize("args, says", [
    (["--fingerprint", "ab:cd"], "64 digits"),
    (["--fingerprint", "z" * 64], "64 digits"),
    ([], "--fingerprint, --subject or both"),
    (["--subject", "CN=a", "--subject", "CN=b"], "Usage:"),
    (["--fingerprint"], "Usage:"),
    (["--serial", "1"], "Usage:"),
])
def test_bind_cert_refuses_a_malformed_binding_as_a_usage_error(tmp_path, args, says):
    data_dir = str(tmp_path / "data")
    added = subprocess.run([phigate_bin(), "user", "add", "ehr.one", "--role", "ehr-system", "--password-stdin"],
                           input="ehr-system-password-9\n", capture_output=True, text=True, timeout=60,
                           env=clean_environment({"PHIGATE_DATA_DIR": data_dir}))
    assert added.returncode == 0, added.stderr
    out = cli(data_dir, "user", "bind-cert", "ehr.one", *args)
    assert out.returncode == 64, out.stdout + out.stderr
    assert says in out.stderr
    bound = cli(data_dir, "user", "bind-cert", "ehr.one", "--fingerprint", ("AB:" * 32)[:-1])
    assert bound.returncode == 0, bound.stdout + bound.stderr


def test_a_command_on_a_data_directory_open_to_others_exits_78(tmp_path):
    import os

    data_dir = tmp_path / "open"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)
    out = cli(str(data_dir), "user", "list")
    assert out.returncode == 78, out.stdout + out.stderr
    assert "data_dir" in out.stderr and "chmod 700" in out.stderr


def tampered_copy(data_dir, tmp_path, *statements):
    """A copy of the audit log with its triggers dropped and `statements` run on it."""
    copy = str(tmp_path / "audit.sqlite")
    shutil.copy(os.path.join(data_dir, "audit.sqlite"), copy)
    db = sqlite3.connect(copy)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()
    return copy


def rewrite_entry(copy, old, new):
    """Changes `old` to `new` in the first entry holding it and recomputes every later hash, as
    someone rewriting the log does; returns that entry's seq. The values the query index holds
    are left alone, so the index still matches."""
    import hashlib

    db = sqlite3.connect(copy)
    rows = db.execute("SELECT seq, entry FROM audit_log ORDER BY seq").fetchall()
    rewritten = next(number for number, entry in rows if old in bytes(entry))
    previous = bytes(32)
    for number, entry in rows:
        entry = bytes(entry)
        if number == rewritten:
            entry = entry.replace(old, new)
        digest = hashlib.sha256(b"phigate-audit-v1\n" + previous + entry).digest()
        db.execute("UPDATE audit_log SET prev_hash = ?, entry = ?, hash = ? WHERE seq = ?",
                   (previous, entry, digest, number))
        previous = digest
    db.commit()
    db.close()
    return rewritten


def test_a_rewritten_log_without_its_checkpoints_fails_by_the_schedule(log_dir, tmp_path):
    copy = tampered_copy(log_dir, tmp_path)
    (count,) = sqlite3.connect(copy).execute("SELECT count(*) FROM audit_log").fetchone()
    assert count >= 4
    # The role an account was given, in a user_add entry, becomes another.
    rewrite_entry(copy, b'"registrar"', b'"clinician"')
    db = sqlite3.connect(copy)
    db.execute("DELETE FROM audit_checkpoints")
    db.commit()
    db.close()
    # Fewer entries than audit.checkpoint_every (1000): a writer could have left them unsigned.
    lenient = cli(log_dir, "audit", "verify", "--db", copy)
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    strict = cli(log_dir, "audit", "verify", "--db", copy, "--checkpoint-every", "3", "--json")
    assert strict.returncode == 1, strict.stdout + strict.stderr
    report = json.loads(strict.stdout)
    assert report["first_bad"]["reason"] == "unsigned_tail"
    assert report["first_bad"]["seq"] == 3 and report["first_bad"]["suspect_from"] == 1
    assert report["checkpoint_every"] == 3
    configured = cli(log_dir, "audit", "verify", "--db", copy, env={"PHIGATE_AUDIT_CHECKPOINT_EVERY": "3"})
    assert configured.returncode == 1 and "unsigned_tail" in configured.stdout, configured.stdout


@pytest.mark.parametrize("statements,kind,seq", [
    (["INSERT INTO audit_blocks VALUES ((SELECT max(last_seq) + 1 FROM audit_blocks), 1000000000, 0, 0)"],
     "past_head", None),
    (["DELETE FROM audit_terms WHERE term = 'a:phigate'"], "terms", 1),
    (["UPDATE audit_blocks SET min_time = 0"], "times", 1),
])
def test_an_edited_index_fails_verification_by_name(log_dir, tmp_path, statements, kind, seq):
    copy = tampered_copy(log_dir, tmp_path, *statements)
    out = cli(log_dir, "audit", "verify", "--db", copy, "--json")
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["first_bad"]["reason"] == "index_mismatch"
    assert f"({kind})" in report["first_bad"]["message"]
    if seq is not None:
        assert report["first_bad"]["seq"] == seq
    plain = cli(log_dir, "audit", "verify", "--db", copy)
    assert "index_mismatch" in plain.stdout and "FAILED" in plain.stdout


def test_the_untouched_log_reports_its_index(log_dir):
    report = json.loads(cli(log_dir, "audit", "verify", "--json").stdout)
    assert report["ok"] and report["index_checked"] and report["index_blocks_checked"] >= 1


def as_someone_else():
    """A prefix that runs a command as an unprivileged user, so that directory permissions
    apply to it; empty when the tests do not run as root (they already do not bypass them)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop privileges to test permissions")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def read_only_share(files):
    """A directory nobody may write (a share) holding `files` ({name: bytes}); returns (outer
    directory to remove afterwards, share)."""
    import tempfile

    outer = tempfile.mkdtemp(prefix="phigate-readonly-")
    os.chmod(outer, 0o755)
    share = os.path.join(outer, "share")
    os.mkdir(share)
    for name, content in files.items():
        with open(os.path.join(share, name), "wb") as file:
            file.write(content)
        os.chmod(os.path.join(share, name), 0o444)
    os.chmod(share, 0o555)
    return outer, share


def remove_share(outer):
    share = os.path.join(outer, "share")
    if os.path.isdir(share):
        os.chmod(share, 0o755)
    shutil.rmtree(outer)


def test_a_copy_whose_wal_cannot_be_read_there_is_refused_with_what_to_do(log_dir, tmp_path):
    """Entries still in a -wal file would be missed by an immutable read: the copy is refused."""
    prefix = as_someone_else()
    live = str(tmp_path / "audit.sqlite")
    shutil.copy(os.path.join(log_dir, "audit.sqlite"), live)
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE pending (x)")
    writer.commit()
    files = {name: open(live + suffix, "rb").read() for name, suffix in
             (("audit.sqlite", ""), ("audit.sqlite-wal", "-wal"))}
    writer.close()
    assert files["audit.sqlite-wal"], "the copy has a WAL with content"
    files["audit-signing.pub"] = open(os.path.join(log_dir, "audit-signing.pub"), "rb").read()
    outer, share = read_only_share(files)
    try:
        out = subprocess.run([*prefix, phigate_bin(), "audit", "verify", "--db", os.path.join(share, "audit.sqlite"),
                              "--public-key", os.path.join(share, "audit-signing.pub")],
                             env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": outer},
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "copy the database with its -wal file" in one_line(out.stderr)
    finally:
        remove_share(outer)


def test_a_copy_in_a_directory_the_auditor_cannot_write_is_verified_and_exported(log_dir):
    """An auditor's copy on a read-only share: SQLite cannot create its -shm file there, so the
    tools read the copy as immutable instead of failing with "readonly database"."""
    prefix = as_someone_else()
    outer, share = read_only_share({name: open(os.path.join(log_dir, name), "rb").read()
                                    for name in ("audit.sqlite", "audit-signing.pub")})
    try:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": outer}
        db, key = os.path.join(share, "audit.sqlite"), os.path.join(share, "audit-signing.pub")
        verified = subprocess.run([*prefix, phigate_bin(), "audit", "verify", "--db", db, "--public-key", key],
                                  env=env, capture_output=True, text=True, timeout=120)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith("audit log OK: "), verified.stdout
        exported = subprocess.run([*prefix, phigate_bin(), "audit", "export", "--db", db, "--format", "ndjson"],
                                  env=env, capture_output=True, text=True, timeout=120)
        assert exported.returncode == 0, exported.stderr
        events = [json.loads(line)["event"] for line in exported.stdout.splitlines()]
        assert events.count("admin.user_add") == 2 and events[-1] == "server.stop", events
        assert sorted(os.listdir(share)) == ["audit-signing.pub", "audit.sqlite"], "nothing written beside the copy"
    finally:
        remove_share(outer)


def test_key_name_sets_the_name_checkpoints_must_be_signed_under(log_dir):
    db = sqlite3.connect(f"file:{log_dir}/audit.sqlite?mode=ro", uri=True)
    (first,) = db.execute("SELECT min(size) FROM audit_checkpoints").fetchone()
    db.close()
    right = cli(log_dir, "audit", "verify", "--key-name", "phigate.local/audit", "--json")
    assert right.returncode == 0, right.stdout + right.stderr
    assert json.loads(right.stdout)["ok"] is True
    wrong = cli(log_dir, "audit", "verify", "--key-name", "other.example/audit", "--json")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert json.loads(wrong.stdout)["first_bad"] == {
        "seq": first, "reason": "checkpoint_signature", "suspect_from": 1,
        "message": f"checkpoint {first}: no valid signature from the audit key"}


def test_the_top_level_help_lists_every_option_of_verify(log_dir):
    out = subprocess.run([phigate_bin(), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    usage = out.stdout[out.stdout.index("phigate audit verify"):out.stdout.index("phigate audit export")]
    for option in ("--db FILE", "--public-key FILE", "--key-name NAME", "--anchor FILE", "--checkpoint-every N",
                   "--json"):
        assert f"[{option}]" in usage, usage


def test_a_copy_the_auditor_may_not_reach_is_named_as_such_not_as_missing(log_dir):
    prefix = as_someone_else()
    if not prefix:
        pytest.skip("needs root to show another user a directory it may not search")
    import tempfile

    outer = tempfile.mkdtemp(prefix="phigate-private-")
    try:
        os.chmod(outer, 0o700)
        shutil.copy(os.path.join(log_dir, "audit.sqlite"), outer)
        out = subprocess.run([*prefix, phigate_bin(), "audit", "verify", "--db", os.path.join(outer, "audit.sqlite"),
                              "--public-key", os.path.join(log_dir, "audit-signing.pub")],
                             env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 1
        assert "permission denied" in one_line(out.stderr) and "no audit database" not in out.stderr
    finally:
        shutil.rmtree(outer)


def test_a_clean_stop_leaves_the_whole_log_in_one_file(tmp_path):
    """The docs tell auditors to copy audit.sqlite from a cleanly stopped gateway: nothing of the
    log may be left in a -wal file then, also when the stop comes while the start-up
    verification still reads the log."""
    for attempt in range(3):
        data_dir = str(tmp_path / f"data{attempt}")
        server = start_server(data_dir=data_dir)
        server.stop()
        wal = os.path.join(data_dir, "audit.sqlite-wal")
        assert not os.path.exists(wal) or os.path.getsize(wal) == 0, f"attempt {attempt}: the WAL holds entries"
        db = sqlite3.connect(f"file:{data_dir}/audit.sqlite?mode=ro&immutable=1", uri=True)
        try:
            events = [json.loads(bytes(e))["event"] for (e,) in db.execute("SELECT entry FROM audit_log ORDER BY seq")]
        finally:
            db.close()
        assert events[0] == "server.start" and events[-1] == "server.stop", events
