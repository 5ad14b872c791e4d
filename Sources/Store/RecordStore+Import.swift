import Foundation

extension RecordStore {
    /// Imports a FHIR R4 `transaction` or `collection` Bundle, all or nothing.
    ///
    /// Every entry's resource is stored under the type and id it carries (or, without an id,
    /// the id its `urn:uuid:` fullUrl, absolute fullUrl or PUT `request.url` implies), with its
    /// references resolved as `ReferenceResolver` describes. Server-managed `meta.versionId`
    /// and `meta.lastUpdated` are dropped; the store keeps them as columns.
    ///
    /// Idempotent: a resource whose canonical JSON equals its current version, or any version
    /// it had before, is left unchanged, so re-importing a bundle, or importing bundles that
    /// share resources (Synthea's organizations and practitioners) in any order and any number
    /// of times, writes nothing new. Different content stores a new version. The consequence:
    /// an import never reverts a resource to content it has already had.
    ///
    /// A malformed bundle, or one holding a resource type the store was told not to keep, is
    /// refused with `.malformedBundle` before anything is written, and a failure while writing
    /// rolls the whole bundle back (one transaction).
    public func importBundle(data: Data) throws -> ImportReport {
        try importBundle(bytes: [UInt8](data))
    }

    /// `importBundle(data:)` over bytes already in memory.
    public func importBundle(bytes: [UInt8]) throws -> ImportReport {
        let entries = try BundleReader.read(bytes)
        if let entry = entries.first(where: { !storesType($0.type) }) {
            // The reader checked the type's syntax, so the name is safe to repeat.
            throw StoreError(
                .malformedBundle, operation: "import",
                message: "entry \(entry.index) is a resource of type \(entry.type), which this server does not store")
        }
        let lastUpdated = Self.timestamp(clock())
        return try database.transaction {
            let resolver = ReferenceResolver(entries: entries) { type, system, value in
                try self.storedIDs(type: type, system: system, value: value)
            }
            var report = ImportReport()
            for entry in entries {
                var resource = entry.resource
                report.unresolvedReferences += try resolver.resolve(in: &resource)
                Self.dropServerMeta(from: &resource)
                let (version, outcome) = try write(
                    type: entry.type, id: entry.id, resource: resource, lastUpdated: lastUpdated)
                report.record(type: entry.type, id: entry.id, version: version, outcome: outcome)
            }
            return report
        }
    }

    /// Stores one resolved resource and returns its version afterwards and what happened.
    private func write(type: String, id: String, resource: JSONObject, lastUpdated: String)
        throws -> (Int, ImportReport.Outcome)
    {
        let json = CanonicalJSON.resourceBytes(resource)
        let current = try database.prepare(
            "SELECT version, json = ?3 FROM resources WHERE type = ?1 AND id = ?2")
        try current.bind(.text(type), .text(id), .blob(json))
        guard try current.step() else {
            current.reset()
            let served = ServedJSON.splice(json, version: 1, lastUpdated: lastUpdated)
            try database.run(
                "INSERT INTO resources(type, id, version, json, last_updated, served) "
                    + "VALUES (?, ?, 1, ?, ?, ?)",
                [.text(type), .text(id), .blob(json), .text(lastUpdated), .blob(served)])
            try index(type: type, id: id, resource: resource, replacing: false)
            return (1, .created)
        }
        let version = current.int(at: 0)
        let identical = current.int64(at: 1) == 1
        current.reset()
        if identical {
            return (version, .unchanged)
        }
        let seenBefore = try database.scalar(
            "SELECT EXISTS(SELECT 1 FROM resource_history WHERE type = ? AND id = ? AND json = ?)",
            [.text(type), .text(id), .blob(json)])
        if seenBefore == 1 {
            return (version, .unchanged)
        }
        try database.run(
            "INSERT INTO resource_history(type, id, version, json, last_updated) "
                + "SELECT type, id, version, json, last_updated FROM resources "
                + "WHERE type = ? AND id = ?",
            [.text(type), .text(id)])
        let served = ServedJSON.splice(json, version: version + 1, lastUpdated: lastUpdated)
        try database.run(
            "UPDATE resources SET version = ?, json = ?, last_updated = ?, served = ? "
                + "WHERE type = ? AND id = ?",
            [.int(version + 1), .blob(json), .text(lastUpdated), .blob(served), .text(type), .text(id)])
        try index(type: type, id: id, resource: resource, replacing: true)
        return (version + 1, .updated)
    }

    /// Writes the index rows of `type/id`, first removing the old ones when `replacing`.
    private func index(type: String, id: String, resource: JSONObject, replacing: Bool) throws {
        let owner: [SQLiteValue] = [.text(type), .text(id)]
        if replacing {
            try database.run("DELETE FROM compartment WHERE type = ? AND id = ?", owner)
            try database.run("DELETE FROM resource_identifier WHERE type = ? AND id = ?", owner)
            if type == "Encounter" {
                try database.run(
                    "DELETE FROM encounter_participant WHERE encounter_id = ?", [.text(id)])
            }
            if type == "Patient" {
                try database.run("DELETE FROM patient_name WHERE patient_id = ?", [.text(id)])
                try database.run("DELETE FROM patient_search WHERE id = ?", [.text(id)])
            }
        }
        let index = ResourceIndexer.index(type: type, id: id, resource: resource)
        for patient in index.patients {
            try database.run(
                "INSERT OR IGNORE INTO compartment(patient_id, type, id) VALUES (?, ?, ?)",
                [.text(patient)] + owner)
        }
        for identifier in index.identifiers {
            try database.run(
                "INSERT OR IGNORE INTO resource_identifier(type, id, system, value) "
                    + "VALUES (?, ?, ?, ?)",
                owner + [.text(identifier.system), .text(identifier.value)])
        }
        for participation in index.participations {
            try database.run(
                "INSERT OR IGNORE INTO encounter_participant(encounter_id, patient_id, "
                    + "practitioner_id) VALUES (?, ?, ?)",
                [.text(id), .text(participation.patient), .text(participation.practitioner)])
        }
        guard type == "Patient" else {
            return
        }
        for part in index.nameParts {
            try database.run(
                "INSERT OR IGNORE INTO patient_name(value, kind, patient_id) VALUES (?, ?, ?)",
                [.text(part.value), .text(part.kind), .text(id)])
        }
        try database.run(
            "INSERT INTO patient_search(id, birth_low, birth_high, gender) VALUES (?, ?, ?, ?)",
            [
                .text(id), .optionalText(index.birthDate?.low),
                .optionalText(index.birthDate?.high), .optionalText(index.gender),
            ])
    }

    /// Removes `meta.versionId` and `meta.lastUpdated`, and `meta` itself if nothing is left.
    static func dropServerMeta(from resource: inout JSONObject) {
        guard var meta = resource["meta"]?.objectValue else {
            return
        }
        meta["versionId"] = nil
        meta["lastUpdated"] = nil
        resource["meta"] = meta.isEmpty ? nil : .object(meta)
    }

    /// `date` as ISO 8601 in UTC with milliseconds, e.g. `2024-05-01T09:30:00.250Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
