"""The FHIR surface, identities and least privilege, against a live demo gateway.

The server runs with PHIGATE_DEMO=true, as `make run` does: it generates its own patients
and prints one-time credentials on stdout, which these tests read like a new user would.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

SERVER_ENV = {"PHIGATE_DEMO": "true"}

CREDENTIAL_LINE = re.compile(
    r"^\s+(\S+)\s+(clinician|registrar|compliance|security-admin|ehr-system)\s+(\S+)\s*$")
TREATED_LINE = re.compile(r"dr\.demo treats patient (\S+); patient (\S+) is not theirs")
FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="module")
def demo(server):
    """The demo accounts and the two sample patients the server printed at first start."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = "\n".join(server.stdout.lines)
        if TREATED_LINE.search(text):
            break
        time.sleep(0.1)
    text = "\n".join(server.stdout.lines)
    passwords = {}
    for line in server.stdout.lines:
        match = CREDENTIAL_LINE.match(line)
        if match:
            passwords[match.group(1)] = match.group(3)
    treated = TREATED_LINE.search(text)
    assert treated, "the demo did not print the sample patients:\n" + text
    return {"passwords": passwords, "treated": treated.group(1), "untreated": treated.group(2)}


def login(server, username, password):
    return requests.post(server.url("/auth/login"), json={"username": username, "password": password},
                         timeout=30)


@pytest.fixture(scope="module")
def tokens(server, demo):
    """A bearer token per demo account."""
    out = {}
    for name, password in demo["passwords"].items():
        response = login(server, name, password)
        assert response.status_code == 200, response.text
        out[name] = response.json()["access_token"]
    return out


def get(server, path, token=None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(server.url(path), headers=headers, timeout=30)


def test_demo_prints_one_account_per_role(demo):
    roles_seen = set()
    assert set(demo["passwords"]) >= {"dr.demo", "registrar.demo", "compliance.demo", "security.demo",
                                      "ehr.demo"}
    for password in demo["passwords"].values():
        assert len(password) >= 12
        roles_seen.add(password)
    assert len(roles_seen) == len(demo["passwords"]), "every demo password must differ"


def test_login_shape_and_me(server, demo, tokens):
    response = login(server, "dr.demo", demo["passwords"]["dr.demo"])
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["user"] == {"username": "dr.demo", "role": "clinician", "practitioner": "demo-prac-01",
                            "totp_enrolled": True}
    assert response.headers["Cache-Control"] == "no-store"
    me = get(server, "/auth/me", tokens["registrar.demo"])
    assert me.status_code == 200
    assert me.json()["user"]["role"] == "registrar"


def test_wrong_password_and_unknown_user_look_the_same(server):
    wrong = login(server, "registrar.demo", "not the password at all")
    unknown = login(server, "nobody.here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_lockout_is_keyed_on_the_canonical_name(server, demo):
    variants = ["compliance.demo", "COMPLIANCE.demo", " compliance.demo ", "Compliance.Demo\n", "compliance.DEMO"]
    for variant in variants:
        assert login(server, variant, "wrong password!!").status_code == 401
    locked = login(server, "compliance.demo", demo["passwords"]["compliance.demo"])
    assert locked.status_code == 429
    assert locked.headers["Content-Type"].startswith("application/problem+json")
    assert int(locked.headers["Retry-After"]) > 0
    assert any(r.get("msg") == "auth.lockout" for r in server.log_records)


def test_secrets_never_reach_the_log(server, demo, tokens):
    log = "\n".join(server.log_lines)
    for password in demo["passwords"].values():
        assert password not in log
    for token in tokens.values():
        assert token not in log


def test_metadata_is_public_and_a_capability_statement(server):
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    response = get(server, "/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    statement = CapabilityStatement.model_validate(response.json())
    patient = next(r for r in statement.rest[0].resource if r.type == "Patient")
    assert {p.name for p in patient.searchParam} >= {"name", "family", "given", "birthdate", "gender",
                                                     "identifier"}


def test_no_token_is_401_operation_outcome(server, demo):
    response = get(server, f"/fhir/Patient/{demo['treated']}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["resourceType"] == "OperationOutcome"
    bad = get(server, f"/fhir/Patient/{demo['treated']}", "not-a-real-token")
    assert bad.status_code == 401


def test_clinician_reads_a_treated_patient(server, demo, tokens):
    from fhir.resources.R4B.patient import Patient

    response = get(server, f"/fhir/Patient/{demo['treated']}", tokens["dr.demo"])
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    patient = Patient.model_validate(response.json())
    assert patient.id == demo["treated"]
    assert patient.meta.versionId == "1"
    assert response.headers["ETag"] == 'W/"1"'


def test_untreated_and_missing_patients_get_the_same_break_glass_refusal(server, demo, tokens):
    untreated = get(server, f"/fhir/Patient/{demo['untreated']}", tokens["dr.demo"])
    missing = get(server, "/fhir/Patient/no-such-patient-123", tokens["dr.demo"])
    assert untreated.status_code == missing.status_code == 403
    a, b = untreated.json(), missing.json()
    assert a["resourceType"] == "OperationOutcome"
    assert a["issue"] == b["issue"]
    assert "break-glass" in a["issue"][0]["diagnostics"]
    assert "X-Break-Glass" in a["issue"][0]["diagnostics"]
    assert demo["untreated"] not in untreated.text


def test_clinician_clinical_search_is_scoped_to_treated_patients(server, demo, tokens):
    from fhir.resources.R4B.bundle import Bundle

    ok = get(server, f"/fhir/Observation?patient={demo['treated']}&_count=1000", tokens["dr.demo"])
    assert ok.status_code == 200, ok.text
    bundle = Bundle.model_validate(ok.json())
    assert bundle.type == "searchset"
    assert bundle.total == len(bundle.entry or []) > 0
    for entry in bundle.entry:
        assert entry.resource.subject.reference == f"Patient/{demo['treated']}"
    refused = get(server, f"/fhir/Observation?patient={demo['untreated']}", tokens["dr.demo"])
    assert refused.status_code == 403
    unscoped = get(server, "/fhir/Observation", tokens["dr.demo"])
    assert unscoped.status_code == 403


def test_patient_search_totals_hide_untreated_patients(server, demo, tokens):
    clinician = get(server, "/fhir/Patient?_count=1000", tokens["dr.demo"]).json()
    registrar = get(server, "/fhir/Patient?_count=1000", tokens["registrar.demo"]).json()
    ids = {e["resource"]["id"] for e in clinician.get("entry", [])}
    assert demo["treated"] in ids
    assert demo["untreated"] not in ids
    assert clinician["total"] == len(ids)
    assert registrar["total"] > clinician["total"]
    assert demo["untreated"] in {e["resource"]["id"] for e in registrar["entry"]}


def test_paging_links(server, tokens):
    first = get(server, "/fhir/Patient?_count=5", tokens["registrar.demo"]).json()
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "next" in links and "previous" not in links
    second = requests.get(links["next"], headers={"Authorization": f"Bearer {tokens['registrar.demo']}"},
                          timeout=30).json()
    assert {e["resource"]["id"] for e in second["entry"]}.isdisjoint({e["resource"]["id"] for e in first["entry"]})
    assert second["total"] == first["total"]


def test_unsupported_search_parameters_are_refused(server, tokens):
    response = get(server, "/fhir/Patient?colour=blue", tokens["registrar.demo"])
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize("query", ["_elements=id", "_summary=true", "_format=xml", "bogus=1"])
def test_reads_refuse_parameters_they_would_ignore(server, demo, tokens, query):
    response = get(server, f"/fhir/Patient/{demo['treated']}?{query}", tokens["dr.demo"])
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert get(server, f"/fhir/Patient/{demo['treated']}?_format=json", tokens["dr.demo"]).status_code == 200


@pytest.mark.parametrize("query", ["_type=Patient", "_count=1", "_since=2020-01-01"])
def test_everything_refuses_parameters_instead_of_returning_the_whole_record(server, demo, tokens, query):
    response = get(server, f"/fhir/Patient/{demo['treated']}/$everything?{query}", tokens["dr.demo"])
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert "entry" not in response.json()


def test_a_request_names_at_most_one_grant(server, demo, tokens):
    from rawhttp import RawConnection

    with RawConnection(server.address, timeout=30) as conn:
        response = conn.request("GET", f"/fhir/Patient/{demo['treated']}", [
            ("Authorization", f"Bearer {tokens['dr.demo']}"),
            ("X-Break-Glass", "bg_AAAAAAAAAAAAAAAAAAAAAA"), ("X-Break-Glass", "bg_BBBBBBBBBBBBBBBBBBBBBB")])
    assert response.status == 400
    assert b'"resourceType":"OperationOutcome"' in response.body


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/fhir/Patient/x/_history", 404),
    ("GET", "/fhir/Observation/x/y/z", 404),
    ("DELETE", "/fhir/Patient/x", 405),
    ("PUT", "/fhir/Patient/x", 405),
    ("GET", "/fhir", 405),
])
def test_unmatched_fhir_paths_answer_with_an_operation_outcome(server, tokens, method, path, status):
    response = requests.request(method, server.url(path), headers={"Authorization": f"Bearer {tokens['dr.demo']}"},
                                timeout=30)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", ["/fhirx", "/fhir-old/Patient/x", "/nothing"])
def test_unmatched_paths_outside_fhir_stay_problem_json(server, path):
    response = requests.get(server.url(path), timeout=30)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("account,path,status", [
    ("registrar.demo", "/fhir/Patient/{treated}", 200),
    ("registrar.demo", "/fhir/Patient/{untreated}", 200),
    ("registrar.demo", "/fhir/Observation?patient={treated}", 403),
    ("registrar.demo", "/fhir/Patient/{treated}/$everything", 403),
    ("compliance.demo", "/fhir/Patient/{treated}", 403),
    ("security.demo", "/fhir/Patient/{treated}", 403),
    ("security.demo", "/fhir/Patient?name=a", 403),
    ("ehr.demo", "/fhir/Patient/{treated}", 400),
    ("dr.demo", "/fhir/Patient/{treated}/$everything", 200),
    ("dr.demo", "/fhir/Patient/{untreated}/$everything", 403),
    ("dr.demo", "/fhir/Practitioner/demo-prac-01", 200),
    ("dr.demo", "/fhir/Widget/1", 400),
])
def test_role_surface(server, demo, tokens, account, path, status):
    response = get(server, path.format(**demo), tokens[account])
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(FHIR_JSON)


def test_ehr_system_acts_with_the_named_users_rights(server, demo, tokens):
    as_clinician = get(server, f"/fhir/Patient/{demo['treated']}", tokens["ehr.demo"],
                       **{"X-On-Behalf-Of": "dr.demo"})
    assert as_clinician.status_code == 200
    refused = get(server, f"/fhir/Patient/{demo['untreated']}", tokens["ehr.demo"],
                  **{"X-On-Behalf-Of": "dr.demo"})
    assert refused.status_code == 403
    nobody = get(server, f"/fhir/Patient/{demo['treated']}", tokens["ehr.demo"],
                 **{"X-On-Behalf-Of": "no.such.user"})
    assert nobody.status_code == 403
    from_clinician = get(server, f"/fhir/Patient/{demo['treated']}", tokens["dr.demo"],
                         **{"X-On-Behalf-Of": "registrar.demo"})
    assert from_clinician.status_code == 400


def test_everything_returns_only_that_patients_compartment(server, demo, tokens):
    bundle = get(server, f"/fhir/Patient/{demo['treated']}/$everything", tokens["dr.demo"]).json()
    assert bundle["total"] == len(bundle["entry"]) > 1
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            assert resource["id"] == demo["treated"]
        else:
            text = str(resource)
            assert f"Patient/{demo['treated']}" in text
            assert f"Patient/{demo['untreated']}" not in text


def test_transaction_import_is_for_ehr_systems(server, tokens):
    bundle = {
        "resourceType": "Bundle", "type": "transaction",
        "entry": [{
            "fullUrl": "urn:uuid:7d6f3f1e-3c0e-4d3a-9a59-0c1a3a1f0001",
            "resource": {"resourceType": "Patient", "id": "interop-import-1",
                         "name": [{"family": "Imported", "given": ["Interop"]}], "gender": "other"},
            "request": {"method": "PUT", "url": "Patient/interop-import-1"},
        }],
    }
    headers = {"Content-Type": FHIR_JSON}
    created = requests.post(server.url("/fhir"), json=bundle, timeout=30,
                            headers={**headers, "Authorization": f"Bearer {tokens['ehr.demo']}"})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["type"] == "transaction-response"
    assert body["entry"][0]["response"]["status"] == "201 Created"
    assert body["entry"][0]["response"]["location"] == "Patient/interop-import-1"
    assert body["entry"][0]["response"]["etag"] == 'W/"1"'
    again = requests.post(server.url("/fhir"), json=bundle, timeout=30,
                          headers={**headers, "Authorization": f"Bearer {tokens['ehr.demo']}"})
    assert again.json()["entry"][0]["response"]["status"] == "200 OK"
    refused = requests.post(server.url("/fhir"), json=bundle, timeout=30,
                            headers={**headers, "Authorization": f"Bearer {tokens['dr.demo']}"})
    assert refused.status_code == 403
    broken = requests.post(server.url("/fhir"), timeout=30,
                           data=b'{"resourceType": "Bundle", "type": "transaction", "entry": [{}]}',
                           headers={**headers, "Authorization": f"Bearer {tokens['ehr.demo']}"})
    assert broken.status_code == 400
    assert broken.json()["resourceType"] == "OperationOutcome"

    # The import is in the log for the patient, but it disclosed nothing to the EHR system.
    compliance = tokens["compliance.demo"]
    logged = get(server, "/audit/events?patient=interop-import-1&event=fhir.transaction", compliance)
    assert [(e["actor"], e["outcome"]) for e in logged.json()["entries"]] == [("ehr.demo", "allowed")] * 2
    accounting = get(server, "/audit/disclosures?patient=interop-import-1", compliance)
    assert accounting.status_code == 200, accounting.text
    assert accounting.json() == {"patient": "interop-import-1", "disclosures": []}


@pytest.mark.parametrize("kind", ["Questionnaire", "Foo"])
def test_a_transaction_with_a_type_the_gateway_never_serves_is_refused_whole(server, tokens, kind):
    # Stored, such a resource could never be read back: refusing it says so at once.
    entries = [
        {"fullUrl": "urn:uuid:7d6f3f1e-3c0e-4d3a-9a59-0c1a3a1f0101",
         "resource": {"resourceType": "Patient", "id": f"unserved-{kind.lower()}", "gender": "other"},
         "request": {"method": "PUT", "url": f"Patient/unserved-{kind.lower()}"}},
        {"fullUrl": "urn:uuid:7d6f3f1e-3c0e-4d3a-9a59-0c1a3a1f0102",
         "resource": {"resourceType": kind, "id": "q1", "status": "active"},
         "request": {"method": "PUT", "url": f"{kind}/q1"}},
    ]
    headers = {"Content-Type": FHIR_JSON, "Authorization": f"Bearer {tokens['ehr.demo']}"}
    refused = requests.post(server.url("/fhir"), json={"resourceType": "Bundle", "type": "transaction",
                                                       "entry": entries}, headers=headers, timeout=30)
    assert refused.status_code == 400, refused.text
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert f"entry 1 is a resource of type {kind}" in outcome["issue"][0]["diagnostics"]
    patient = get(server, f"/fhir/Patient/unserved-{kind.lower()}", tokens["registrar.demo"])
    assert patient.status_code == 404, "the bundle's Patient was not written either"


def test_fhirclient_reads_a_patient_as_an_ehr_would(server, demo, tokens):
    from fhirclient import client
    from fhirclient.models.patient import Patient

    smart = client.FHIRClient(settings={"app_id": "phigate-interop", "api_base": server.url("/fhir/")})
    smart.server.session.headers["Authorization"] = f"Bearer {tokens['dr.demo']}"
    patient = Patient.read(demo["treated"], smart.server)
    assert patient.id == demo["treated"]
    assert patient.name and patient.name[0].family


def test_logout_ends_the_session(server, demo):
    token = login(server, "security.demo", demo["passwords"]["security.demo"]).json()["access_token"]
    assert get(server, "/auth/me", token).status_code == 200
    out = requests.post(server.url("/auth/logout"), headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert out.status_code == 204
    assert get(server, "/auth/me", token).status_code == 401


def test_a_resource_shared_with_another_patient_is_not_disclosed_by_search(server, demo, tokens):
    ehr = {"Authorization": f"Bearer {tokens['ehr.demo']}", "Content-Type": FHIR_JSON}
    shared = {
        "resourceType": "Bundle", "type": "transaction",
        "entry": [{
            "fullUrl": "urn:uuid:7d6f3f1e-3c0e-4d3a-9a59-0c1a3a1f0002",
            "resource": {"resourceType": "Coverage", "id": "shared-coverage-1", "status": "active",
                         "beneficiary": {"reference": f"Patient/{demo['treated']}"},
                         "policyHolder": {"reference": f"Patient/{demo['untreated']}"},
                         "payor": [{"display": "Demo Insurer"}]},
            "request": {"method": "PUT", "url": "Coverage/shared-coverage-1"},
        }],
    }
    assert requests.post(server.url("/fhir"), json=shared, headers=ehr, timeout=30).status_code == 200
    assert get(server, "/fhir/Coverage/shared-coverage-1", tokens["dr.demo"]).status_code == 403
    search = get(server, f"/fhir/Coverage?patient={demo['treated']}", tokens["dr.demo"]).json()
    assert "shared-coverage-1" not in str(search)
    assert search["total"] == len(search.get("entry", []))
    everything = get(server, f"/fhir/Patient/{demo['treated']}/$everything", tokens["dr.demo"])
    assert "shared-coverage-1" not in everything.text


def test_hostile_inputs_get_4xx_not_500(server, demo, tokens):
    for query in ("name=", "birthdate=xx1990", "birthdate=1990-13", "identifier=|"):
        response = get(server, f"/fhir/Patient?{query}", tokens["registrar.demo"])
        assert response.status_code == 400, (query, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
    for name in ("", "dr demo", "a,b", "x" * 70):
        response = get(server, f"/fhir/Patient/{demo['treated']}", tokens["ehr.demo"], **{"X-On-Behalf-Of": name})
        assert response.status_code in (400, 403), (name, response.status_code)
    huge = requests.post(server.url("/auth/login"), timeout=30, headers={"Content-Type": "application/json"},
                         data=b'{"username":"x","password":"x","pad":[' + b"1," * 200_000 + b"1]}")
    assert huge.status_code == 413
    delete = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "fullUrl": "urn:uuid:7d6f3f1e-3c0e-4d3a-9a59-0c1a3a1f0003",
        "resource": {"resourceType": "Patient", "id": demo["treated"], "name": [{"family": "Overwritten"}]},
        "request": {"method": "DELETE", "url": f"Patient/{demo['treated']}"}}]}
    refused = requests.post(server.url("/fhir"), json=delete, timeout=30,
                            headers={"Authorization": f"Bearer {tokens['ehr.demo']}", "Content-Type": FHIR_JSON})
    assert refused.status_code == 400
    assert "Overwritten" not in get(server, f"/fhir/Patient/{demo['treated']}", tokens["dr.demo"]).text


def test_phi_responses_are_not_cacheable(server, demo, tokens):
    response = get(server, f"/fhir/Patient/{demo['treated']}", tokens["dr.demo"])
    assert response.headers["Cache-Control"] == "no-store"
