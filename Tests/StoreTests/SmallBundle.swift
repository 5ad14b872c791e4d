/// A hand-written transaction bundle: five patients chosen for the search cases, two
/// practitioners, encounters, observations, an organization and a provenance.
///
/// References use `urn:uuid:` fullUrls, a relative `Type/id` and a conditional
/// `Practitioner?identifier=` reference, the three forms the importer must handle.
enum SmallBundle {
    static let npiSystem = "http://hl7.org/fhir/sid/us-npi"
    static let mrnSystem = "http://hospital.example/mrn"

    static let json = """
        {
          "resourceType": "Bundle",
          "type": "transaction",
          "entry": [
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
              "resource": {
                "resourceType": "Patient", "id": "p1",
                "identifier": [
                  {"system": "\(mrnSystem)", "value": "MRN-001"},
                  {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-11-2222"}
                ],
                "name": [{"family": "M\u{FC}ller", "given": ["J\u{FC}rgen", "Karl"],
                          "prefix": ["Mr."]}],
                "gender": "male", "birthDate": "1980-05-17"
              },
              "request": {"method": "POST", "url": "Patient"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002",
              "resource": {
                "resourceType": "Patient", "id": "p2",
                "identifier": [{"system": "\(mrnSystem)", "value": "MRN-002"}],
                "name": [{"family": "Muller", "given": ["Anna"]}],
                "gender": "female", "birthDate": "1980-12-31"
              },
              "request": {"method": "POST", "url": "Patient"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000003",
              "resource": {
                "resourceType": "Patient", "id": "p3",
                "identifier": [{"value": "NOSYS-3"}],
                "name": [{"family": "O'Brien", "given": ["Se\u{E1}n"]}],
                "gender": "other", "birthDate": "1975"
              },
              "request": {"method": "POST", "url": "Patient"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000004",
              "resource": {
                "resourceType": "Patient", "id": "p4",
                "identifier": [{"system": "\(mrnSystem)", "value": "MRN-004"}],
                "name": [{"use": "official", "family": "Smith", "given": ["John"]},
                         {"use": "maiden", "family": "Jones", "given": ["John"]}],
                "gender": "male", "birthDate": "2001-02-28"
              },
              "request": {"method": "POST", "url": "Patient"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000005",
              "resource": {
                "resourceType": "Patient", "id": "p5",
                "name": [{"family": "Zhang", "given": ["Wei"]}],
                "gender": "unknown"
              },
              "request": {"method": "POST", "url": "Patient"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000a1",
              "resource": {
                "resourceType": "Practitioner", "id": "pr1",
                "identifier": [{"system": "\(npiSystem)", "value": "1111"}],
                "name": [{"family": "House"}]
              },
              "request": {"method": "POST", "url": "Practitioner"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000a2",
              "resource": {
                "resourceType": "Practitioner", "id": "pr2",
                "identifier": [{"system": "\(npiSystem)", "value": "2222"}],
                "name": [{"family": "Quinn"}]
              },
              "request": {"method": "POST", "url": "Practitioner"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000b1",
              "resource": {"resourceType": "Organization", "id": "org1", "name": "Clinic"},
              "request": {"method": "POST", "url": "Organization"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000e1",
              "resource": {
                "resourceType": "Encounter", "id": "e1", "status": "finished",
                "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
                "participant": [{"individual":
                  {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000a1"}}],
                "serviceProvider": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000b1"}
              },
              "request": {"method": "POST", "url": "Encounter"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000e2",
              "resource": {
                "resourceType": "Encounter", "id": "e2", "status": "finished",
                "subject": {"reference": "Patient/p2"},
                "participant": [{"individual":
                  {"reference": "Practitioner?identifier=\(npiSystem)|2222"}}]
              },
              "request": {"method": "POST", "url": "Encounter"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000c1",
              "resource": {
                "resourceType": "Observation", "id": "o1", "status": "final",
                "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
                "encounter": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000e1"},
                "valueQuantity": {"value": 1.50, "unit": "mg"}
              },
              "request": {"method": "POST", "url": "Observation"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000c2",
              "resource": {
                "resourceType": "Observation", "id": "o2", "status": "final",
                "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000002"}
              },
              "request": {"method": "POST", "url": "Observation"}
            },
            {
              "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000d1",
              "resource": {
                "resourceType": "Provenance", "id": "prov1",
                "target": [{"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
                           {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000c1"}],
                "agent": [{"who": {"reference": "Practitioner?identifier=\(npiSystem)|1111"}}]
              },
              "request": {"method": "POST", "url": "Provenance"}
            }
          ]
        }
        """

    static var bytes: [UInt8] {
        Array(json.utf8)
    }
}
