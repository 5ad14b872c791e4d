/// The generated demo data set: the bundles to import and a summary of who is in them.
///
/// Every person in it is fictional. The summary lets `make run` and the tests link demo users
/// to practitioners and know, without querying the store, which patients each practitioner
/// treats: a demo clinician linked to `demo-prac-01` has a care relationship with some
/// patients and not with others, which is what break-glass needs to be shown.
struct DemoDataset: Sendable, Equatable {
    /// FHIR R4 transaction Bundles as JSON, to be imported in order: first the directory
    /// (the Organization, its Practitioners and their PractitionerRoles), then one per patient.
    /// Entries reference each other by `urn:uuid:` fullUrl; patient bundles reach the
    /// directory through conditional references by identifier, resolved against the store.
    var bundles: [[UInt8]]
    var practitioners: [DemoPractitioner]
    var patients: [DemoPatient]
}

/// A practitioner of the demo data set.
struct DemoPractitioner: Sendable, Equatable {
    /// The FHIR id, `demo-prac-01` onwards.
    let id: String
    /// "Dr. Given Family".
    let displayName: String
    /// A made-up ten-digit value starting with 99 (real NPIs start with 1 or 2), under the
    /// system `http://hl7.org/fhir/sid/us-npi`.
    let npi: String
}

/// A patient of the demo data set.
struct DemoPatient: Sendable, Equatable {
    /// The FHIR id, `demo-pat-0001` onwards.
    let id: String
    /// "Given Family".
    let displayName: String
    /// The practitioners who take part in at least one of the patient's encounters, in id
    /// order: exactly the patient's encounter-based care relationships.
    let practitionerIDs: [String]
}
