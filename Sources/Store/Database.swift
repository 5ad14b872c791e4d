internal import CSQLite
import Foundation

/// One SQLite connection: the sole owner of an `sqlite3*`, closed in `deinit`.
///
/// Threading: the connection is opened with `SQLITE_OPEN_NOMUTEX`, so SQLite does no locking of
/// its own. The caller guarantees that one thread at a time uses a `Database` and every
/// `Statement` it prepared (own it from one serial queue, or open one connection per thread).
/// That is why the type is not `Sendable`.
///
/// Every value reaches SQLite through a bound parameter of a prepared statement; `execute` is
/// for DDL and fixed statements without values. Prepared statements are cached by SQL text.
public final class Database {
    /// How hard SQLite works to make a commit durable (`PRAGMA synchronous`).
    public enum Synchronous: String, Sendable {
        /// In WAL mode a commit may be lost on power failure, never corrupted.
        case normal = "NORMAL"
        /// Every commit is on stable storage before it returns; what the audit log needs.
        case full = "FULL"
    }

    let handle: OpaquePointer
    /// The path the connection was opened with (":memory:" for a private in-memory database).
    public let path: String
    /// True when opened with `readOnly: true`; every write then fails with `.readOnly`.
    public let isReadOnly: Bool

    private var statementCache: [String: Statement] = [:]
    private static let statementCacheLimit = 256
    /// Nesting depth of `transaction`; above zero, nested calls use savepoints.
    var transactionDepth = 0
    /// The deny-set the authorizer callback reads; kept alive here while installed.
    var writeGuard: WriteGuard?

    /// Opens (and unless `readOnly`, creates) the database at `path`.
    ///
    /// A writable connection is switched to WAL journaling; every connection gets
    /// `foreign_keys=ON`, the given `synchronous` level and a busy timeout, so that a writer
    /// waits for a competing lock instead of failing at once. Throws `.cannotOpen` when the
    /// file cannot be opened, `.corrupt` when it is not a database.
    ///
    /// `immutable` (with `readOnly` only) promises SQLite that nothing changes the file while
    /// it is open: SQLite then takes no locks and creates no `-shm` or `-wal` file, which is
    /// what lets a copy in a directory we cannot write be read at all (WAL mode needs a
    /// writable `-shm` otherwise). SQLite also ignores any `-wal` file then, so committed
    /// changes still in a WAL are not seen: use it only for a file no process writes and whose
    /// WAL is absent or empty (see ``needsImmutableOpen(path:)``).
    public init(
        path: String, readOnly: Bool = false, immutable: Bool = false, synchronous: Synchronous = .normal,
        busyTimeoutMilliseconds: Int = 5_000
    ) throws {
        precondition(readOnly || !immutable, "only a read-only connection can treat its file as immutable")
        _ = Self.configureLibrary
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        if immutable {
            flags |= SQLITE_OPEN_URI
        }
        var opened: OpaquePointer?
        let result = sqlite3_open_v2(immutable ? Self.immutableURI(path) : path, &opened, flags, nil)
        guard result == SQLITE_OK, let opened else {
            // SQLite may allocate a handle even when opening fails; it must still be closed.
            sqlite3_close_v2(opened)
            throw StoreError.sqlite(result, operation: "open")
        }
        self.handle = opened
        self.path = path
        self.isReadOnly = readOnly
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, Int32(clamping: busyTimeoutMilliseconds))

        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA synchronous = " + synchronous.rawValue)
        if !readOnly {
            try execute("PRAGMA journal_mode = WAL")
        }
        // Reading the schema makes a file that is not a database fail here, not on first use.
        try execute("SELECT count(*) FROM sqlite_schema")
    }

    /// The `file:` URI that opens `path` read-only and immutable. `%`, `?` and `#` in the path
    /// are escaped so that no part of it is read as a URI parameter; an absolute path gets an
    /// empty authority so that one starting with `//` is not read as a host.
    static func immutableURI(_ path: String) -> String {
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3F"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        return (path.hasPrefix("/") ? "file://" : "file:") + escaped + "?mode=ro&immutable=1"
    }

    /// True when the database at `path` can only be read as an immutable file: we cannot
    /// write its directory (to create the `-shm` file WAL mode needs), no writable `-shm` is
    /// there already, and no `-wal` file with content lies beside it (whose changes an
    /// immutable connection would not see). A read-only copy on a read-only medium, or in a
    /// directory of someone else's, is the case this is for.
    public static func needsImmutableOpen(path: String) -> Bool {
        guard !isInWritableDirectory(path: path) else {
            return false
        }
        let shm = path + "-shm"
        if FileManager.default.fileExists(atPath: shm) && FileManager.default.isWritableFile(atPath: shm) {
            return false
        }
        return !hasPendingWAL(path: path)
    }

    /// True when this process may create files beside `path`, as SQLite must for a `-shm` file.
    public static func isInWritableDirectory(path: String) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        return FileManager.default.isWritableFile(atPath: directory.isEmpty ? "." : directory)
    }

    /// True when a `-wal` file with content lies beside the database at `path`: committed
    /// changes may be there that the main file does not hold yet. A WAL that exists but cannot
    /// be examined counts as holding some, so that nothing reads past it as if it were empty.
    public static func hasPendingWAL(path: String) -> Bool {
        var status = stat()
        guard stat(path + "-wal", &status) == 0 else {
            return errno != ENOENT
        }
        return status.st_size > 0
    }

    /// Process-wide SQLite settings, applied once before the first connection opens.
    ///
    /// Memory statistics are off: they serialise every SQLite allocation of every connection
    /// on one mutex, and no part of phigate reads them. The result is not checked because the
    /// only failure, SQLITE_MISUSE, means SQLite was initialised before (by another library in
    /// the process), which leaves its defaults in place and changes nothing else.
    private static let configureLibrary: Void = {
        _ = phigate_sqlite_disable_memory_statistics()
    }()

    deinit {
        statementCache.removeAll()
        // close_v2 defers the close until statements still held elsewhere are finalized.
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that take no values: DDL, PRAGMA, fixed maintenance.
    ///
    /// Never build the text from data: values belong in `prepare` with bound parameters.
    /// The error detail is SQLite's message, which can only quote this program's SQL text.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        let detail = errorMessage.map { String(cString: $0) }
        sqlite3_free(errorMessage)
        guard result == SQLITE_OK else {
            throw StoreError.sqlite(extendedCode(or: result), operation: "execute", detail: detail)
        }
    }

    /// Returns a prepared statement for `sql`, reset and with bindings cleared.
    ///
    /// Statements are cached by text. If the cached statement is still in the middle of its
    /// rows (a nested use of the same SQL), a fresh uncached statement is compiled instead, so
    /// the outer iteration is never disturbed. `sql` must hold exactly one statement.
    public func prepare(_ sql: String) throws -> Statement {
        if let cached = statementCache[sql] {
            if !cached.isBusy {
                cached.reset()
                return cached
            }
            return try compile(sql)
        }
        let statement = try compile(sql)
        if statementCache.count >= Self.statementCacheLimit {
            statementCache.removeAll(keepingCapacity: true)
        }
        statementCache[sql] = statement
        return statement
    }

    private func compile(_ sql: String) throws -> Statement {
        var compiled: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let flags = UInt32(SQLITE_PREPARE_PERSISTENT)
        let result = sql.withCString { text in
            let status = sqlite3_prepare_v3(handle, text, -1, flags, &compiled, &tail)
            let rest = tail.map { String(cString: $0) } ?? ""
            return rest.allSatisfy(\.isWhitespace) ? status : SQLITE_MISUSE
        }
        guard result == SQLITE_OK, let compiled else {
            sqlite3_finalize(compiled)
            let detail =
                result == SQLITE_MISUSE
                ? "expected exactly one SQL statement" : String(cString: sqlite3_errmsg(handle))
            throw StoreError.sqlite(
                result == SQLITE_OK ? SQLITE_MISUSE : result, operation: "prepare", detail: detail)
        }
        return Statement(handle: compiled, sql: sql)
    }

    /// Drops every cached statement (after a schema change or a new authorizer).
    public func clearStatementCache() {
        statementCache.removeAll()
    }

    /// Prepares `sql`, binds `values` and returns one value per result row made by `row`.
    public func query<Row>(
        _ sql: String, _ values: [SQLiteValue] = [], row: (Statement) throws -> Row
    ) throws -> [Row] {
        let statement = try prepare(sql)
        try statement.bind(values)
        defer { statement.reset() }
        var rows: [Row] = []
        while try statement.step() {
            rows.append(try row(statement))
        }
        return rows
    }

    /// Prepares `sql`, binds `values` and runs it to completion (INSERT, UPDATE, DELETE).
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws {
        try prepare(sql).run(values)
    }

    /// The integer in the first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ values: [SQLiteValue] = []) throws -> Int64? {
        try query(sql, values) { $0.int64(at: 0) }.first
    }

    /// The rowid of the most recent successful INSERT on this connection.
    public var lastInsertRowID: Int64 {
        sqlite3_last_insert_rowid(handle)
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
    public var changes: Int {
        Int(sqlite3_changes64(handle))
    }

    /// True while a transaction is open on this connection.
    public var isInTransaction: Bool {
        sqlite3_get_autocommit(handle) == 0
    }

    /// The connection's extended error code when `result` is a failure SQLite elaborated on.
    private func extendedCode(or result: Int32) -> Int32 {
        let extended = sqlite3_extended_errcode(handle)
        return extended & 0xFF == result & 0xFF ? extended : result
    }
}
