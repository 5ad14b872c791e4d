import Foundation
import Testing

@testable import Store

private struct Boom: Error, Equatable {}

@Suite("SQLite layer")
struct DatabaseTests {
    static let roundTripValues: [SQLiteValue] = [
        .null, .integer(0), .integer(Int64.max), .integer(Int64.min), .real(3.25),
        .real(-0.5), .text(""), .text("plain"), .text("h\u{E9}llo \u{2713} \u{1F600}"),
        .text("nul\u{0}inside"), .blob([]), .blob([0, 1, 127, 128, 255]),
    ]

    @Test("a bound value reads back as the same value", arguments: roundTripValues)
    func bindingRoundTrips(value: SQLiteValue) throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE t(v)")
        try database.run("INSERT INTO t(v) VALUES (?)", [value])
        let statement = try database.prepare("SELECT v FROM t")
        #expect(try statement.step())
        #expect(statement.value(at: 0) == value)
        switch value {
        case .null:
            #expect(statement.isNull(at: 0))
            #expect(statement.text(at: 0) == nil)
        case .integer(let number):
            #expect(statement.int64(at: 0) == number)
        case .real(let number):
            #expect(statement.double(at: 0) == number)
        case .text(let string):
            #expect(statement.text(at: 0) == string)
        case .blob(let bytes):
            #expect(statement.blob(at: 0) == bytes)
        }
        #expect(try statement.step() == false)
    }

    @Test("positional binding checks the parameter count")
    func bindingCountIsChecked() throws {
        let database = try Database(path: ":memory:")
        let statement = try database.prepare("SELECT ?, ?")
        #expect(statement.parameterCount == 2)
        let error = try #require(throws: StoreError.self) { try statement.bind(1) }
        #expect(error.code == .misuse)
        try statement.bind(7, "seven")
        #expect(try statement.step())
        #expect(statement.int(at: 0) == 7)
        #expect(statement.text(at: 1) == "seven")
    }

    @Test("prepare refuses more than one statement")
    func prepareRefusesScripts() throws {
        let database = try Database(path: ":memory:")
        let error = try #require(throws: StoreError.self) {
            try database.prepare("SELECT 1; SELECT 2")
        }
        #expect(error.code == .misuse)
    }

    @Test("a nested use of the same SQL does not disturb the outer iteration")
    func statementCacheSurvivesNesting() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE t(n INTEGER)")
        for number in 1...3 {
            try database.run("INSERT INTO t(n) VALUES (?)", [.int(number)])
        }
        let sql = "SELECT n FROM t ORDER BY n"
        var pairs: [Int] = []
        let outer = try database.prepare(sql)
        while try outer.step() {
            let inner = try database.query(sql) { $0.int(at: 0) }
            pairs.append(outer.int(at: 0) * 10 + inner.count)
        }
        #expect(pairs == [13, 23, 33])
    }

    @Test("transaction commits when the body returns")
    func transactionCommits() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE t(n INTEGER)")
        let result = try database.transaction {
            try database.run("INSERT INTO t(n) VALUES (1)")
            return database.lastInsertRowID
        }
        #expect(result == 1)
        #expect(database.changes == 1)
        #expect(try database.scalar("SELECT count(*) FROM t") == 1)
        #expect(database.isInTransaction == false)
    }

    @Test("transaction rolls back and rethrows the body's error")
    func transactionRollsBack() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE t(n INTEGER)")
        #expect(throws: Boom()) {
            try database.transaction {
                try database.run("INSERT INTO t(n) VALUES (1)")
                throw Boom()
            }
        }
        #expect(try database.scalar("SELECT count(*) FROM t") == 0)
        #expect(database.isInTransaction == false)
    }

    @Test("a nested transaction that throws undoes only its own work")
    func nestedTransactionUsesSavepoint() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE t(n INTEGER)")
        try database.transaction {
            try database.run("INSERT INTO t(n) VALUES (1)")
            #expect(throws: Boom()) {
                try database.transaction {
                    try database.run("INSERT INTO t(n) VALUES (2)")
                    throw Boom()
                }
            }
            try database.transaction {
                try database.run("INSERT INTO t(n) VALUES (3)")
            }
        }
        let rows = try database.query("SELECT n FROM t ORDER BY n") { $0.int(at: 0) }
        #expect(rows == [1, 3])
    }

    static let authorizerCases: [(sql: String, allowed: Bool)] = [
        ("INSERT INTO audit(entry) VALUES ('x')", true),
        ("SELECT entry FROM audit", true),
        ("SELECT count(*) FROM AUDIT", true),
        ("UPDATE audit SET entry = 'y'", false),
        ("UPDATE Audit SET entry = 'y' WHERE rowid = 1", false),
        ("DELETE FROM audit", false),
        ("DELETE FROM audit WHERE rowid = 1", false),
        (
            "INSERT INTO audit(rowid, entry) VALUES (1, 'z') "
                + "ON CONFLICT(rowid) DO UPDATE SET entry = 'z'", false
        ),
        ("DROP TABLE audit", false),
        ("ALTER TABLE audit RENAME TO gone", false),
        ("UPDATE notes SET body = 'y'", true),
        ("DELETE FROM notes", true),
    ]

    @Test("the authorizer refuses writes to protected tables only", arguments: authorizerCases)
    func authorizer(sql: String, allowed: Bool) throws {
        let database = try Database(path: ":memory:")
        try database.execute(
            "CREATE TABLE audit(entry TEXT); CREATE TABLE notes(body TEXT); "
                + "INSERT INTO audit(entry) VALUES ('first'); INSERT INTO notes VALUES ('n');")
        try database.setAuthorizer(denyingWritesTo: ["audit"])
        if allowed {
            try database.prepare(sql).step()
        } else {
            let error = try #require(throws: StoreError.self) { try database.prepare(sql) }
            #expect(error.code == .notAuthorized)
            let entries = try database.query("SELECT entry FROM audit") { $0.text(at: 0) }
            #expect(entries == ["first"])
        }
    }

    @Test("removing the authorizer allows updates again, even of cached statements")
    func authorizerCanBeRemoved() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE audit(entry TEXT); INSERT INTO audit VALUES ('a')")
        let update = "UPDATE audit SET entry = 'b'"
        try database.run(update)
        try database.setAuthorizer(denyingWritesTo: ["audit"])
        #expect(throws: StoreError.self) { try database.run(update) }
        try database.setAuthorizer(denyingWritesTo: [])
        try database.run(update)
        #expect(database.changes == 1)
    }

    @Test("writing to a read-only database fails with .readOnly")
    func readOnlyDatabase() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("ro.sqlite")
        do {
            let writer = try Database(path: path)
            try writer.execute("CREATE TABLE t(n INTEGER)")
        }
        let reader = try Database(path: path, readOnly: true)
        #expect(reader.isReadOnly)
        #expect(try reader.scalar("SELECT count(*) FROM t") == 0)
        let error = try #require(throws: StoreError.self) {
            try reader.run("INSERT INTO t(n) VALUES (?)", [42])
        }
        #expect(error.code == .readOnly)
        #expect(error.sqlitePrimaryCode == 8)
    }

    @Test("a constraint violation fails with .constraint and does not echo the value")
    func constraintViolation() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE person(ssn TEXT PRIMARY KEY)")
        let secret = "999-12-3456"
        try database.run("INSERT INTO person(ssn) VALUES (?)", [.text(secret)])
        let error = try #require(throws: StoreError.self) {
            try database.run("INSERT INTO person(ssn) VALUES (?)", [.text(secret)])
        }
        #expect(error.code == .constraint)
        #expect(error.sqlitePrimaryCode == 19)
        #expect(error.sqliteCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
        #expect(!error.message.contains(secret))
        #expect(!error.description.contains(secret))
    }

    @Test("a database at its size limit fails with .diskFull")
    func diskFull() throws {
        let directory = try TemporaryDirectory()
        let database = try Database(path: directory.path("full.sqlite"))
        try database.execute("CREATE TABLE t(b BLOB)")
        let pages = try #require(try database.scalar("PRAGMA page_count"))
        try database.execute("PRAGMA max_page_count = \(pages + 2)")
        let page: SQLiteValue = .blob(Array(repeating: 7, count: 4096))
        let error = try #require(throws: StoreError.self) {
            for _ in 0..<64 {
                try database.run("INSERT INTO t(b) VALUES (?)", [page])
            }
        }
        #expect(error.code == .diskFull)
        #expect(error.sqlitePrimaryCode == 13)
    }

    @Test("a second writer fails with .busy once its busy timeout has passed")
    func busy() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("busy.sqlite")
        let holder = try Database(path: path)
        try holder.execute("CREATE TABLE t(n INTEGER)")
        let waiter = try Database(path: path, busyTimeoutMilliseconds: 0)
        try holder.execute("BEGIN IMMEDIATE")
        let error = try #require(throws: StoreError.self) {
            try waiter.transaction { try waiter.run("INSERT INTO t(n) VALUES (1)") }
        }
        #expect(error.code == .busy)
        try holder.execute("COMMIT")
        try waiter.transaction { try waiter.run("INSERT INTO t(n) VALUES (1)") }
        #expect(try holder.scalar("SELECT count(*) FROM t") == 1)
    }

    @Test("opening fails with .cannotOpen for a missing directory, .corrupt for a non-database")
    func openFailures() throws {
        let directory = try TemporaryDirectory()
        let missing = try #require(throws: StoreError.self) {
            try Database(path: directory.path("no/such/dir/db.sqlite"))
        }
        #expect(missing.code == .cannotOpen)
        let readOnlyMissing = try #require(throws: StoreError.self) {
            try Database(path: directory.path("absent.sqlite"), readOnly: true)
        }
        #expect(readOnlyMissing.code == .cannotOpen)
        let garbage = directory.path("garbage.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        let notDatabase = try #require(throws: StoreError.self) { try Database(path: garbage) }
        #expect(notDatabase.code == .corrupt)
    }

    @Test(
        "an immutable path is a file: URI whose path cannot add parameters",
        arguments: [
            ("/tmp/audit.sqlite", "file:///tmp/audit.sqlite?mode=ro&immutable=1"),
            ("copy.sqlite", "file:copy.sqlite?mode=ro&immutable=1"),
            ("/a?mode=rw&b#c%41", "file:///a%3Fmode=rw&b%23c%2541?mode=ro&immutable=1"),
            ("//host/x", "file:////host/x?mode=ro&immutable=1"),
        ])
    func immutableURI(path: String, uri: String) {
        #expect(Database.immutableURI(path) == uri)
    }

    @Test("an immutable connection reads a WAL database and creates no -shm or -wal beside it")
    func immutableReader() throws {
        let directory = try TemporaryDirectory()
        // Characters that mean something in a URI, so that the escaping is exercised for real.
        let path = directory.path("odd ?#% name.sqlite")
        do {
            let writer = try Database(path: path)
            try writer.execute("CREATE TABLE t(n INTEGER)")
            try writer.run("INSERT INTO t(n) VALUES (?)", [7])
        }
        let files = { try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted() }
        #expect(try files() == ["odd ?#% name.sqlite"], "closing the last connection removes the WAL")
        #expect(!Database.hasPendingWAL(path: path))
        #expect(!Database.needsImmutableOpen(path: path), "the directory is writable")
        let reader = try Database(path: path, readOnly: true, immutable: true)
        #expect(reader.isReadOnly)
        #expect(try reader.scalar("SELECT n FROM t") == 7)
        #expect(try files() == ["odd ?#% name.sqlite"])
        let error = try #require(throws: StoreError.self) { try reader.run("INSERT INTO t(n) VALUES (1)") }
        #expect(error.code == .readOnly)
    }

    @Test("a WAL with committed changes beside a database is noticed")
    func pendingWAL() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("busy.sqlite")
        let writer = try Database(path: path)
        try writer.execute("PRAGMA wal_autocheckpoint = 0")
        try writer.execute("CREATE TABLE t(n INTEGER)")
        #expect(Database.hasPendingWAL(path: path))
    }
}
