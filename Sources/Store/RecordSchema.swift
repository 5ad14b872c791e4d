/// The record store's tables, as migrations of the `records` schema component.
///
/// `resources` holds the current version of every resource as canonical JSON;
/// `resource_history` the versions it replaced. Every other table is an index derived from the
/// JSON at write time and rebuilt whenever a resource changes.
enum RecordSchema {
    static let migrator = Migrator(
        component: "records", scripts: [version1, version2],
        followUps: [1: { try RecordStore.fillServedForms(in: $0) }])

    /// The first schema. Shipped: never edit it (tests build old databases from it).
    static let version1 = """
        CREATE TABLE resources(
            type TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            json BLOB NOT NULL,
            last_updated TEXT NOT NULL,
            PRIMARY KEY(type, id)
        );

        CREATE TABLE resource_history(
            type TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            json BLOB NOT NULL,
            last_updated TEXT NOT NULL,
            PRIMARY KEY(type, id, version)
        );

        -- The patient compartment: which patient each resource is about.
        CREATE TABLE compartment(
            patient_id TEXT NOT NULL,
            type TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY(patient_id, type, id)
        ) WITHOUT ROWID;
        CREATE INDEX compartment_by_resource ON compartment(type, id);

        -- identifier[] of every resource; system is '' when absent.
        CREATE TABLE resource_identifier(
            type TEXT NOT NULL,
            system TEXT NOT NULL,
            value TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY(type, value, system, id)
        ) WITHOUT ROWID;
        CREATE INDEX resource_identifier_by_resource ON resource_identifier(type, id);

        -- Encounter.participant.individual references to Practitioners: care relationships.
        CREATE TABLE encounter_participant(
            encounter_id TEXT NOT NULL,
            patient_id TEXT NOT NULL,
            practitioner_id TEXT NOT NULL,
            PRIMARY KEY(practitioner_id, patient_id, encounter_id)
        ) WITHOUT ROWID;
        CREATE INDEX encounter_participant_by_encounter ON encounter_participant(encounter_id);
        CREATE INDEX encounter_participant_by_patient
            ON encounter_participant(patient_id, practitioner_id);

        -- Patient search: folded name parts (kind: family, given, prefix, suffix, text).
        CREATE TABLE patient_name(
            value TEXT NOT NULL,
            kind TEXT NOT NULL,
            patient_id TEXT NOT NULL,
            PRIMARY KEY(value, kind, patient_id)
        ) WITHOUT ROWID;
        CREATE INDEX patient_name_by_patient ON patient_name(patient_id);

        -- Patient search: birthDate as an inclusive day range, and gender.
        CREATE TABLE patient_search(
            id TEXT PRIMARY KEY NOT NULL,
            birth_low TEXT,
            birth_high TEXT,
            gender TEXT
        ) WITHOUT ROWID;
        """

    /// `served`: the bytes a read sends, the canonical JSON with `meta.versionId` and
    /// `meta.lastUpdated` put back, written with each version so that a read splices nothing.
    /// Rows stored before this column existed hold NULL until `RecordStore` fills them on its
    /// next writable open; readers fall back to splicing while a row is NULL.
    static let version2 = """
        ALTER TABLE resources ADD COLUMN served BLOB;
        """
}
