import Policy
import Testing

@Suite("Resource classes and action names")
struct ClassificationTests {
    @Test(
        "FHIR types are classified",
        arguments: [
            ("Patient", ResourceClass.patientData), ("Observation", .patientData),
            ("Encounter", .patientData), ("Condition", .patientData),
            ("MedicationRequest", .patientData), ("Device", .patientData),
            ("Provenance", .patientData), ("ExplanationOfBenefit", .patientData),
            ("Practitioner", .directoryData), ("PractitionerRole", .directoryData),
            ("Organization", .directoryData), ("Location", .directoryData),
            ("Medication", .directoryData), ("patient", .unsupported), ("", .unsupported),
            ("Bundle", .unsupported), ("CapabilityStatement", .unsupported),
            ("Patient ", .unsupported),
        ])
    func classify(type: String, expected: ResourceClass) {
        #expect(ResourceClass.of(type) == expected)
        #expect(ResourceClass.isPatientData(type) == (expected == .patientData))
        #expect(ResourceClass.isDirectoryData(type) == (expected == .directoryData))
    }

    @Test("no type is both patient data and directory data")
    func classesAreDisjoint() {
        #expect(ResourceClass.patientDataTypes.isDisjoint(with: ResourceClass.directoryDataTypes))
    }

    @Test(
        "actions have stable audit names",
        arguments: [
            (Action.readResource(type: "Patient"), "fhir.read", true),
            (.searchResources(type: "Observation"), "fhir.search", true),
            (.patientEverything, "fhir.everything", true), (.importBundle, "fhir.import", false),
            (.readCapabilities, "fhir.capabilities", true),
            (.activateBreakGlass, "break_glass.activate", true),
            (.listOwnGrants, "break_glass.list", true),
            (.endGrant(holder: "x"), "break_glass.end", true), (.listReviews, "review.list", false),
            (.reviewGrant(holder: "x"), "review.submit", false),
            (.queryAudit, "audit.query", false), (.readCheckpoints, "audit.checkpoints", false),
            (.verifyAudit, "audit.verify", false), (.exportAudit, "audit.export", false),
            (.readDisclosures, "audit.disclosures", false), (.manageUsers, "admin.users", false),
            (.manageWebhooks, "admin.webhooks", false),
            (.viewDeadLetters, "admin.dead_letters", false),
        ])
    func names(action: Action, name: String, proxiable: Bool) {
        #expect(action.name == name)
        #expect(action.isProxiable == proxiable)
    }

    @Test(
        "grant checks run holder, patient, revocation, expiry in that order",
        arguments: [
            ("dr.ada", "p1", false, Int64(101), GrantEvidence.Check.valid),
            ("dr.bea", "p2", true, 100, .notHolder), ("dr.ada", "p2", true, 100, .wrongPatient),
            ("dr.ada", "p1", true, 100, .revoked), ("dr.ada", "p1", false, 100, .expired),
            ("dr.ada", "p1", false, 99, .expired),
        ])
    func grantCheck(
        holder: String, patient: String, revoked: Bool, end: Int64, check: GrantEvidence.Check
    ) {
        let grant = GrantEvidence(
            id: "g", holder: holder, patientID: patient, expiresAt: end, revoked: revoked)
        #expect(grant.check(patientID: "p1", holder: "dr.ada", now: 100) == check)
    }
}
