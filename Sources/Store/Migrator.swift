/// Brings a database schema up to date from an ordered list of SQL scripts.
///
/// Script `i` (0-based) moves the schema from version `i` to version `i + 1`; each runs in its
/// own transaction together with the version bump, so a failing script leaves the schema at
/// the last good version. Scripts are append-only: never edit one that has shipped.
///
/// Without a `component` name the version is SQLite's `PRAGMA user_version`, which suits a
/// database with a single owner (the audit log). Modules that share one database file
/// (records and identities) each pass a component name; their versions are then rows of the
/// `phigate_schema` table, so their script lists evolve independently.
public struct Migrator: Sendable {
    /// Work a script cannot express in SQL (filling a new column from data only Swift can
    /// compute). It runs right after its script, in the same transaction.
    public typealias FollowUp = @Sendable (Database) throws -> Void

    /// Which schema this is, or nil for the database-wide `user_version`.
    public let component: String?
    /// The scripts, oldest first.
    public let scripts: [String]
    /// Follow-ups by the index of the script they complete; append-only like the scripts.
    public let followUps: [Int: FollowUp]

    public init(component: String? = nil, scripts: [String], followUps: [Int: FollowUp] = [:]) {
        precondition(followUps.keys.allSatisfy(scripts.indices.contains), "a follow-up needs its script")
        self.component = component
        self.scripts = scripts
        self.followUps = followUps
    }

    /// The version the schema reaches once every script has run.
    public var latestVersion: Int {
        scripts.count
    }

    /// The schema version currently recorded in `database`.
    public func currentVersion(of database: Database) throws -> Int {
        guard let component else {
            return Int(try database.scalar("PRAGMA user_version") ?? 0)
        }
        let tableExists = try database.scalar(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'phigate_schema'")
        guard tableExists == 1 else {
            return 0
        }
        let sql = "SELECT version FROM phigate_schema WHERE component = ?"
        return Int(try database.scalar(sql, [.text(component)]) ?? 0)
    }

    /// Runs the scripts the database has not seen yet and returns the resulting version.
    ///
    /// Throws `.migration` when the database records a version newer than `latestVersion`
    /// (written by a newer program), and the script's own error when one fails.
    @discardableResult
    public func migrate(_ database: Database) throws -> Int {
        if component != nil {
            try ensureVersionTable(in: database)
        }
        let current = try currentVersion(of: database)
        guard current <= latestVersion else {
            throw StoreError(
                .migration, operation: "migrate",
                message: "schema \(component ?? "user_version") is at version \(current), "
                    + "newer than this program's \(latestVersion)")
        }
        for version in current..<latestVersion {
            try database.transaction {
                try database.execute(scripts[version])
                try followUps[version]?(database)
                try record(version + 1, in: database)
            }
        }
        database.clearStatementCache()
        return latestVersion
    }

    private func record(_ version: Int, in database: Database) throws {
        guard let component else {
            // PRAGMA takes no bound parameters; the value is an integer this program counted.
            try database.execute("PRAGMA user_version = \(version)")
            return
        }
        try database.run(
            "INSERT INTO phigate_schema(component, version) VALUES (?, ?) "
                + "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
            [.text(component), .int(version)])
    }

    private func ensureVersionTable(in database: Database) throws {
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS phigate_schema(
                component TEXT PRIMARY KEY NOT NULL,
                version INTEGER NOT NULL
            ) WITHOUT ROWID
            """)
    }
}
