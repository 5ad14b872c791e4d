import Policy
import Testing

@testable import Auth

@Suite("Care assignments")
struct CareTests {
    @Test("assigning is idempotent and any spelling of the name finds it")
    func idempotent() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        #expect(try fixture.store.assignCare("alice", patientID: "patient-2"))
        #expect(try !fixture.store.assignCare(" ALICE ", patientID: "patient-2"))
        #expect(try fixture.store.assignCare("Alice", patientID: "patient-1"))
        #expect(try fixture.store.assignedPatients("alice") == ["patient-1", "patient-2"])
        let rows = try fixture.store.database.scalar("SELECT count(*) FROM care_assignments")
        #expect(rows == 2)
    }

    /// Name, patient, and whether an assignment links them after alice gets patient-1.
    static let lookups: [(String, String, Bool)] = [
        ("alice", "patient-1", true),
        ("ALICE\n", "patient-1", true),
        ("alice", "patient-2", false),
        ("alice", "PATIENT-1", false),
        ("bob", "patient-1", false),
        ("nobody", "patient-1", false),
    ]

    @Test("a lookup matches the exact patient id and the canonical name", arguments: lookups)
    func lookup(name: String, patient: String, expected: Bool) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.addClinician("bob")
        try fixture.store.assignCare("alice", patientID: "patient-1")
        #expect(try fixture.store.hasCareAssignment(name, patientID: patient) == expected)
    }

    /// Roles other than clinician hold no care relationships.
    @Test(
        "care is assigned to clinicians only",
        arguments: [Role.registrar, .compliance, .securityAdmin, .ehrSystem])
    func clinicianOnly(role: Role) throws {
        let fixture = try AuthFixture()
        try fixture.store.addUser(
            "user1", role: role, practitionerID: nil, password: AuthFixture.password)
        let error = try #require(throws: AuthError.self) {
            try fixture.store.assignCare("user1", patientID: "patient-1")
        }
        #expect(error.code == .invalidRole)
        #expect(try fixture.store.assignedPatients("user1").isEmpty)
    }

    @Test(
        "patient ids must be FHIR logical ids",
        arguments: ["", "has space", "a/b", String(repeating: "1", count: 65), "pätient"])
    func invalidPatient(patientID: String) throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        let error = try #require(throws: AuthError.self) {
            try fixture.store.assignCare("alice", patientID: patientID)
        }
        #expect(error.code == .invalidIdentifier)
    }

    @Test("removing an assignment ends it")
    func remove() throws {
        let fixture = try AuthFixture()
        try fixture.addClinician("alice")
        try fixture.store.assignCare("alice", patientID: "patient-1")
        #expect(try fixture.store.removeCare("Alice", patientID: "patient-1"))
        #expect(try !fixture.store.removeCare("alice", patientID: "patient-1"))
        #expect(try !fixture.store.hasCareAssignment("alice", patientID: "patient-1"))
    }
}
