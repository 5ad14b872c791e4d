/// A resource as a read serves it: the stored served bytes and the version its ETag names.
public struct ServedResource: Sendable, Equatable {
    /// The version, for `ETag: W/"<version>"`.
    public let version: Int
    /// The response body: canonical JSON with `meta.versionId` and `meta.lastUpdated`.
    public let body: [UInt8]
}

extension RecordStore {
    /// The served form of `type/id`, or nil when there is no such resource.
    ///
    /// The read path of every disclosure: one indexed lookup and one copy of the stored bytes,
    /// nothing parsed or spliced. The bytes equal `storedResource(type:id:)?.servedJSON()`.
    public func servedResource(type: String, id: String) throws -> ServedResource? {
        let statement = try database.prepare(
            "SELECT version, served FROM resources WHERE type = ? AND id = ?")
        let row = try statement.withText(type, id) { row -> (found: Bool, served: ServedResource?) in
            guard try row.step() else { return (false, nil) }
            guard !row.isNull(at: 1) else { return (true, nil) }
            return (true, ServedResource(version: row.int(at: 0), body: row.blob(at: 1)))
        }
        guard row.found else { return nil }
        if let served = row.served { return served }
        return try storedResource(type: type, id: id).map {
            ServedResource(version: $0.version, body: $0.servedJSON())
        }
    }

    /// Fills `served` for every row, from its canonical JSON, version and time: the follow-up
    /// of the migration that added the column, in its transaction.
    ///
    /// Works through the table in rowid order a batch at a time, so that memory stays bounded
    /// on a large store.
    static func fillServedForms(in database: Database) throws {
        var after: Int64 = 0
        while true {
            let rows = try database.query(
                "SELECT rowid, version, last_updated, json FROM resources WHERE rowid > ? "
                    + "ORDER BY rowid LIMIT 256",
                [.integer(after)]
            ) { row in
                (
                    rowid: row.int64(at: 0), version: row.int(at: 1), lastUpdated: row.text(at: 2) ?? "",
                    json: row.blob(at: 3)
                )
            }
            guard let last = rows.last else { return }
            for row in rows {
                let served = ServedJSON.splice(row.json, version: row.version, lastUpdated: row.lastUpdated)
                try database.run(
                    "UPDATE resources SET served = ? WHERE rowid = ?", [.blob(served), .integer(row.rowid)])
            }
            after = last.rowid
        }
    }
}
