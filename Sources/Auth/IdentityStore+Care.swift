import Policy
import Store

extension IdentityStore {
    /// Records an explicit care relationship between a clinician and a patient.
    ///
    /// Idempotent: assigning twice keeps one row with the first time. Returns true when the
    /// assignment is new. Only clinicians hold care relationships (`.invalidRole` otherwise);
    /// `patientID` must be a FHIR logical id (`.invalidIdentifier`). The store does not check
    /// that the patient exists in the record store: an assignment made ahead of an import is
    /// allowed and grants nothing until the patient's records arrive.
    @discardableResult
    public func assignCare(_ rawName: String, patientID: String) throws(AuthError) -> Bool {
        let name = try Self.canonicalName(rawName)
        try Self.checkPatientID(patientID)
        return try AuthError.translating("assign care") {
            try database.transaction {
                let account = try requireAccount(name)
                guard account.role == .clinician else {
                    throw AuthError(.invalidRole, "only a clinician account holds care assignments")
                }
                try database.run(
                    "INSERT INTO care_assignments(username, patient_id, assigned_at) "
                        + "VALUES (?, ?, ?) ON CONFLICT(username, patient_id) DO NOTHING",
                    [.text(name), .text(patientID), .integer(clock.unixSeconds())])
                return database.changes == 1
            }
        }
    }

    /// Ends an explicit care relationship; returns true when one existed.
    @discardableResult
    public func removeCare(_ rawName: String, patientID: String) throws(AuthError) -> Bool {
        let name = try Self.canonicalName(rawName)
        try Self.checkPatientID(patientID)
        return try AuthError.translating("remove a care assignment") {
            try database.run(
                "DELETE FROM care_assignments WHERE username = ? AND patient_id = ?",
                [.text(name), .text(patientID)])
            return database.changes == 1
        }
    }

    /// Whether an explicit assignment links the account to the patient.
    ///
    /// This is the policy's hot path, so it is one indexed lookup and does not check that the
    /// account exists or is enabled: an unknown name simply has no assignment. Encounter
    /// participation, the other kind of care relationship, is the record store's to answer.
    public func hasCareAssignment(_ rawName: String, patientID: String) throws(AuthError) -> Bool {
        let name = try Self.canonicalName(rawName)
        return try AuthError.translating("read a care assignment") {
            let found = try database.scalar(
                "SELECT EXISTS (SELECT 1 FROM care_assignments "
                    + "WHERE username = ? AND patient_id = ?)",
                [.text(name), .text(patientID)])
            return found == 1
        }
    }

    /// The patient ids explicitly assigned to the account, in id order.
    ///
    /// Throws `.unknownUser` when there is no such account.
    public func assignedPatients(_ rawName: String) throws(AuthError) -> [String] {
        let name = try Self.canonicalName(rawName)
        return try AuthError.translating("list care assignments") {
            _ = try requireAccount(name)
            return try database.query(
                "SELECT patient_id FROM care_assignments WHERE username = ? ORDER BY patient_id",
                [.text(name)]
            ) { $0.text(at: 0) ?? "" }
        }
    }

    private static func checkPatientID(_ patientID: String) throws(AuthError) {
        guard FHIRSyntax.isValidID(patientID) else {
            throw AuthError(
                .invalidIdentifier,
                "a patient id is 1 to 64 characters of A-Z, a-z, 0-9, '-' and '.'")
        }
    }
}
