"""`phigate import` on the shared Synthea bundles, and a clinician reading them through HTTP."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from phigate_process import REPO_ROOT, clean_environment, phigate_bin, start_server

SYNTHEA = REPO_ROOT.parent / "shared" / "data" / "synthea-r4"
pytestmark = pytest.mark.skipif(
    not SYNTHEA.is_dir(), reason=f"Synthea bundles not found at {SYNTHEA} (they live in ../shared)")


def run(data_dir, *args, stdin=None):
    env = clean_environment({"PHIGATE_DATA_DIR": data_dir})
    return subprocess.run([phigate_bin(), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=300)


def expected_counts():
    """Resources per type, counted from the bundles themselves (shared resources once)."""
    seen = set()
    counts = collections.Counter()
    for path in sorted(SYNTHEA.glob("*.json")):
        for entry in json.loads(path.read_text())["entry"]:
            resource = entry["resource"]
            key = (resource["resourceType"], resource["id"])
            if key not in seen:
                seen.add(key)
                counts[resource["resourceType"]] += 1
    return counts


def parse_table(stdout):
    rows = {}
    for line in stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 4 and parts[1].isdigit():
            rows[parts[0]] = tuple(int(p) for p in parts[1:])
    return rows


@pytest.fixture(scope="module")
def imported():
    data_dir = tempfile.mkdtemp(prefix="phigate-import-")
    first = run(data_dir, "import", str(SYNTHEA))
    assert first.returncode == 0, first.stderr
    return data_dir, first


def test_import_counts_match_the_bundles(imported):
    _, first = imported
    rows = parse_table(first.stdout)
    expected = expected_counts()
    # Each distinct resource is created once; patient bundles carrying slimmer copies of shared
    # practitioners and organisations update them, which is not a new resource.
    created = {t: c for t, (c, _, _) in rows.items() if c}
    assert created == dict(expected)
    assert "resources in" in first.stdout and "/s)" in first.stdout


def test_import_entries_name_files_by_digest_not_by_the_patient_in_their_name(imported):
    import hashlib

    data_dir, _ = imported
    # The command line queues its audit entries; a gateway started on the directory logs them.
    server = start_server(data_dir=data_dir)
    server.stop()
    out = run(data_dir, "audit", "export", "--format", "ndjson", "--event", "admin.import")
    assert out.returncode == 0, out.stderr
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    bundles = sorted(SYNTHEA.glob("*.json"))
    assert len(entries) >= len(bundles)
    digests = {hashlib.sha256(path.read_bytes()).hexdigest() for path in bundles}
    assert {e["details"]["file_sha256"] for e in entries} >= digests
    # Synthea names files after the patient ("Given_Family_<uuid>.json"): none of it is logged.
    for path in bundles:
        assert path.stem.split("_")[0] not in out.stdout or path.stem.startswith(("hospital", "practitioner"))
    assert all("file" not in e["details"] for e in entries)


def test_a_refused_bundle_does_not_stop_the_rest_of_a_directory(tmp_path):
    import shutil

    source = tmp_path / "bundles"
    source.mkdir()
    patients = [p for p in sorted(SYNTHEA.glob("*.json")) if not p.name[0].islower()][:2]
    for path in patients:
        shutil.copy(path, source / path.name)
    (source / "Aa_broken.json").write_text("{")  # sorts first: the good ones come after it
    data_dir = str(tmp_path / "data")
    out = run(data_dir, "import", str(source))
    assert out.returncode == 1
    assert "Aa_broken.json" in out.stderr and "(not imported)" in out.stderr
    assert "1 of 3 bundles refused" in out.stderr
    assert out.stdout.splitlines()[-1].startswith("2 bundles, ")
    table = parse_table(out.stdout)
    assert table["Patient"][0] == 2, "both good bundles after the refused one were written"


def test_second_import_changes_nothing(imported):
    data_dir, _ = imported
    again = run(data_dir, "import", str(SYNTHEA))
    assert again.returncode == 0, again.stderr
    for type_, (created, updated, unchanged) in parse_table(again.stdout).items():
        assert created == 0 and updated == 0, type_
        assert unchanged > 0


def test_corrupted_bundle_is_refused_naming_the_entry_and_writes_nothing(imported, tmp_path):
    data_dir, _ = imported
    source = next(p for p in sorted(SYNTHEA.glob("*.json")) if not p.name[0].islower())
    bundle = json.loads(source.read_text())
    bundle["entry"][0]["resource"]["id"] = "fresh-patient-never-stored"
    del bundle["entry"][5]["resource"]["resourceType"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(bundle))
    result = run(data_dir, "import", str(broken))
    assert result.returncode == 1
    assert "entry 5" in result.stderr
    server = start_server(data_dir=data_dir)
    try:
        run(data_dir, "user", "add", "reg.import", "--role", "registrar", "--password-stdin",
            stdin="registrar-password-1\n")
        token = requests.post(server.url("/auth/login"), timeout=30,
                              json={"username": "reg.import", "password": "registrar-password-1"}).json()
        response = requests.get(server.url("/fhir/Patient/fresh-patient-never-stored"), timeout=30,
                                headers={"Authorization": f"Bearer {token['access_token']}"})
        assert response.status_code == 404
    finally:
        server.stop()


def test_clinician_linked_to_a_synthea_practitioner(imported):
    data_dir, _ = imported
    patient_path = next(p for p in sorted(SYNTHEA.glob("*.json")) if not p.name[0].islower())
    bundle = json.loads(patient_path.read_text())
    patient_id = next(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    encounter = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")
    reference = encounter["participant"][0]["individual"]["reference"]
    if reference.startswith("urn:uuid:"):
        practitioner = next(e["resource"]["id"] for e in bundle["entry"] if e["fullUrl"] == reference)
    else:
        npi = reference.split("|")[-1]
        directory = json.loads(next(SYNTHEA.glob("practitionerInformation*.json")).read_text())
        practitioner = next(e["resource"]["id"] for e in directory["entry"]
                            if any(i.get("value") == npi for i in e["resource"].get("identifier", [])))
    added = run(data_dir, "user", "add", "Dr.Synthea", "--role", "clinician", "--practitioner", practitioner,
                "--password-stdin", stdin="clinician-password-1\n")
    assert added.returncode == 0, added.stderr
    assert "dr.synthea" in added.stdout
    assert "no Practitioner" not in added.stderr, "the practitioner was imported"
    early = run(data_dir, "user", "add", "Dr.Early", "--role", "clinician", "--practitioner", "not-imported-yet",
                "--password-stdin", stdin="clinician-password-2\n")
    assert early.returncode == 0, early.stderr
    assert "no Practitioner/not-imported-yet yet" in early.stderr
    listed = run(data_dir, "user", "list")
    assert "dr.synthea" in listed.stdout and practitioner in listed.stdout
    server = start_server(data_dir=data_dir)
    try:
        token = requests.post(server.url("/auth/login"), timeout=30,
                              json={"username": "  DR.SYNTHEA ", "password": "clinician-password-1"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        ok = requests.get(server.url(f"/fhir/Patient/{patient_id}"), headers=headers, timeout=30)
        assert ok.status_code == 200, ok.text
        everything = requests.get(server.url(f"/fhir/Patient/{patient_id}/$everything"), headers=headers,
                                  timeout=30).json()
        types = collections.Counter(e["resource"]["resourceType"] for e in everything["entry"])
        own = collections.Counter(e["resource"]["resourceType"] for e in bundle["entry"]
                                  if e["resource"]["resourceType"] not in ("Organization", "Practitioner",
                                                                           "Location", "PractitionerRole",
                                                                           "Medication"))
        assert types["Patient"] == 1
        assert types["Encounter"] == own["Encounter"]
        assert types["Observation"] == own["Observation"]
    finally:
        server.stop()
