import Foundation

/// One stored resource: its current version and canonical JSON.
public struct StoredResource: Sendable, Equatable {
    public let type: String
    public let id: String
    /// 1 when first stored; incremented by every import that changed the content.
    public let version: Int
    /// When this version was stored, ISO 8601 in UTC with milliseconds.
    public let lastUpdated: String
    /// The canonical JSON (see `CanonicalJSON`). It carries no `meta.versionId` or
    /// `meta.lastUpdated`: those live in `version` and `lastUpdated`.
    public let json: [UInt8]
    /// The bytes a read sends (see `servedJSON()`), as stored with this version; nil only for
    /// a row whose served form is missing, which is then spliced on demand.
    let served: [UInt8]?
}

/// One page of search results and the number of matches over all pages.
public struct SearchResult: Sendable, Equatable {
    public let total: Int
    public let resources: [StoredResource]
}

/// phigate's FHIR R4 record store, over one `Database`.
///
/// It keeps the current version of each resource as canonical JSON with `urn:uuid:` references
/// resolved, plus index tables derived from that JSON: the patient compartment, identifiers,
/// encounter participation (the care relationships) and patient search fields.
///
/// Threading: like its `Database`, a `RecordStore` is used by one thread at a time. Any number
/// of stores may open the same file through their own connections; SQLite's WAL mode lets them
/// read while one writes. The store performs no access control: it is the caller's job to
/// decide, from `patientCompartments`, who may see what.
public final class RecordStore {
    /// The connection the store reads and writes through.
    public let database: Database
    let clock: () -> Date
    /// Which resource types an import may store; a bundle holding any other is refused.
    let storesType: (String) -> Bool

    /// Opens the store over `database`, creating or migrating its tables when writable.
    ///
    /// On a read-only connection the schema must already be current; `.migration` otherwise.
    /// `clock` gives the `lastUpdated` time of imported versions. `storesType` narrows the
    /// resource types imports may store to those the caller will ever serve, so that nothing
    /// lands in the store that no request can reach; by default every valid type name is kept.
    public init(
        database: Database, clock: @escaping () -> Date = Date.init,
        storesType: @escaping (String) -> Bool = { _ in true }
    ) throws {
        self.database = database
        self.clock = clock
        self.storesType = storesType
        let migrator = RecordSchema.migrator
        if database.isReadOnly {
            let version = try migrator.currentVersion(of: database)
            guard version == migrator.latestVersion else {
                throw StoreError(
                    .migration, operation: "open record store",
                    message: "read-only database has records schema \(version), "
                        + "expected \(migrator.latestVersion)")
            }
        } else {
            try migrator.migrate(database)
        }
    }

    static let resourceColumns = "r.type, r.id, r.version, r.last_updated, r.json, r.served"

    static func storedResource(from row: Statement) -> StoredResource {
        StoredResource(
            type: row.text(at: 0) ?? "", id: row.text(at: 1) ?? "", version: row.int(at: 2),
            lastUpdated: row.text(at: 3) ?? "", json: row.blob(at: 4),
            served: row.isNull(at: 5) ? nil : row.blob(at: 5))
    }

    /// The stored JSON of `type/id`, or nil when there is no such resource.
    public func resource(type: String, id: String) throws -> [UInt8]? {
        try storedResource(type: type, id: id)?.json
    }

    /// The current version of `type/id` with its metadata, or nil.
    public func storedResource(type: String, id: String) throws -> StoredResource? {
        try database.query(
            "SELECT \(Self.resourceColumns) FROM resources r WHERE r.type = ? AND r.id = ?",
            [.text(type), .text(id)], row: Self.storedResource
        ).first
    }

    /// Every patient whose compartment holds `type/id`, in id order; a Patient holds itself.
    ///
    /// Access decisions must use this form: a resource about several patients (a Provenance,
    /// a Group) must be allowed for all of them.
    public func patientCompartments(of type: String, id: String) throws -> [String] {
        try database.query(
            "SELECT patient_id FROM compartment WHERE type = ? AND id = ? ORDER BY patient_id",
            [.text(type), .text(id)]
        ) { $0.text(at: 0) ?? "" }
    }

    /// The patient `type/id` belongs to, or nil when it belongs to none (or is not stored).
    ///
    /// When a resource belongs to several patients this is the first by id; callers deciding
    /// access use `patientCompartments(of:id:)` instead.
    public func patientCompartment(of type: String, id: String) throws -> String? {
        try patientCompartments(of: type, id: id).first
    }

    /// The Practitioners that took part in an Encounter of the patient, in id order.
    public func practitionersForPatient(_ patientID: String) throws -> [String] {
        try database.query(
            "SELECT DISTINCT practitioner_id FROM encounter_participant WHERE patient_id = ? "
                + "ORDER BY practitioner_id",
            [.text(patientID)]
        ) { $0.text(at: 0) ?? "" }
    }

    /// The patients in whose Encounters the Practitioner took part, in id order.
    public func patientsForPractitioner(_ practitionerID: String) throws -> [String] {
        try database.query(
            "SELECT DISTINCT patient_id FROM encounter_participant WHERE practitioner_id = ? "
                + "ORDER BY patient_id",
            [.text(practitionerID)]
        ) { $0.text(at: 0) ?? "" }
    }

    /// True when the Practitioner took part in at least one Encounter of the patient: the
    /// encounter-based care relationship of the access policy.
    public func hasEncounterParticipation(practitionerID: String, patientID: String) throws
        -> Bool
    {
        // Asked on every read of a patient's record: bound in place and stepped without the
        // boxed values and row array of `scalar`.
        let statement = try database.prepare(
            "SELECT EXISTS(SELECT 1 FROM encounter_participant "
                + "WHERE practitioner_id = ? AND patient_id = ?)")
        return try statement.withText(practitionerID, patientID) { row in
            try row.step() && row.int64(at: 0) == 1
        }
    }

    /// How many resources of each type are stored.
    public func storedTypes() throws -> [String: Int] {
        let rows = try database.query("SELECT type, count(*) FROM resources GROUP BY type") {
            ($0.text(at: 0) ?? "", $0.int(at: 1))
        }
        return Dictionary(rows, uniquingKeysWith: +)
    }

    /// Ids of stored resources of `type` carrying an identifier with `value` and, unless
    /// `system` is nil, that system ("" for identifiers without one).
    func storedIDs(type: String, system: String?, value: String) throws -> [String] {
        guard let system else {
            return try database.query(
                "SELECT id FROM resource_identifier WHERE type = ? AND value = ?",
                [.text(type), .text(value)]
            ) { $0.text(at: 0) ?? "" }
        }
        return try database.query(
            "SELECT id FROM resource_identifier WHERE type = ? AND value = ? AND system = ?",
            [.text(type), .text(value), .text(system)]
        ) { $0.text(at: 0) ?? "" }
    }
}
