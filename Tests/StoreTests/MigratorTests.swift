import Testing

@testable import Store

@Suite("Migrations")
struct MigratorTests {
    static let scripts = [
        "CREATE TABLE a(n INTEGER)",
        "ALTER TABLE a ADD COLUMN label TEXT",
        "CREATE TABLE b(n INTEGER); INSERT INTO b VALUES (1)",
    ]

    @Test("user_version counts the scripts that ran; running again changes nothing")
    func userVersion() throws {
        let database = try Database(path: ":memory:")
        let first = Migrator(scripts: Array(Self.scripts.prefix(2)))
        #expect(try first.migrate(database) == 2)
        #expect(try database.scalar("PRAGMA user_version") == 2)
        let all = Migrator(scripts: Self.scripts)
        #expect(try all.currentVersion(of: database) == 2)
        #expect(try all.migrate(database) == 3)
        #expect(try all.migrate(database) == 3)
        #expect(try database.scalar("SELECT count(*) FROM b") == 1)
    }

    @Test("a database newer than the program is refused")
    func newerSchemaIsRefused() throws {
        let database = try Database(path: ":memory:")
        try Migrator(scripts: Self.scripts).migrate(database)
        let older = Migrator(scripts: Array(Self.scripts.prefix(1)))
        let error = try #require(throws: StoreError.self) { try older.migrate(database) }
        #expect(error.code == .migration)
    }

    @Test("a failing script leaves the schema at the last good version")
    func failingScriptRollsBack() throws {
        let database = try Database(path: ":memory:")
        let broken = Migrator(scripts: [Self.scripts[0], "CREATE TABLE c(n); SELEC nonsense"])
        #expect(throws: StoreError.self) { try broken.migrate(database) }
        #expect(try broken.currentVersion(of: database) == 1)
        let tables = try database.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
        ) { $0.text(at: 0) }
        #expect(tables == ["a"])
    }

    @Test("named components keep separate versions in one database")
    func components() throws {
        let database = try Database(path: ":memory:")
        let records = Migrator(component: "records", scripts: ["CREATE TABLE r(n)"])
        let identities = Migrator(
            component: "identities", scripts: ["CREATE TABLE u(n)", "CREATE TABLE s(n)"])
        #expect(try records.migrate(database) == 1)
        #expect(try identities.migrate(database) == 2)
        #expect(try records.currentVersion(of: database) == 1)
        #expect(try identities.currentVersion(of: database) == 2)
        #expect(try database.scalar("PRAGMA user_version") == 0)
    }
}
