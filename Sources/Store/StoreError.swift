internal import CSQLite

/// The one error type of the Store module.
///
/// A value carries a `code` a caller can switch on, the SQLite result code when SQLite produced
/// the failure, the operation that failed and a message that is safe to log: it never contains
/// an SQL argument, a resource body or anything else that could identify a patient. Resource
/// ids, resource type names and bundle entry positions may appear; they are identifiers, not PHI.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of named values rather than a frozen enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable, dotted-free name for logs and metrics.
        public let name: String

        public init(_ name: String) {
            self.name = name
        }

        public var description: String { name }

        /// Any SQLite failure without a more specific code below.
        public static let sqlite = Code("sqlite")
        /// The database file could not be opened or created (SQLITE_CANTOPEN).
        public static let cannotOpen = Code("cannot_open")
        /// A write was attempted on a read-only database or file (SQLITE_READONLY).
        public static let readOnly = Code("read_only")
        /// The disk or the database's size limit is full (SQLITE_FULL).
        public static let diskFull = Code("disk_full")
        /// Another connection holds a conflicting lock past the busy timeout (SQLITE_BUSY/LOCKED).
        public static let busy = Code("busy")
        /// A UNIQUE, PRIMARY KEY, NOT NULL, CHECK or FOREIGN KEY constraint failed.
        public static let constraint = Code("constraint")
        /// The database file is damaged or is not a database (SQLITE_CORRUPT/NOTADB).
        public static let corrupt = Code("corrupt")
        /// The operating system reported an I/O error (SQLITE_IOERR).
        public static let ioError = Code("io_error")
        /// The authorizer refused the statement, e.g. an UPDATE on an append-only table.
        public static let notAuthorized = Code("not_authorized")
        /// A string or blob exceeded SQLite's size limit (SQLITE_TOOBIG).
        public static let tooBig = Code("too_big")
        /// The schema on disk is newer than this program, or a migration failed.
        public static let migration = Code("migration")
        /// The caller used the API in a way its contract forbids (a programming error).
        public static let misuse = Code("misuse")
        /// A FHIR Bundle was refused: not JSON, not a Bundle, or an entry that is not usable.
        public static let malformedBundle = Code("malformed_bundle")
        /// A search parameter value could not be understood.
        public static let invalidSearch = Code("invalid_search")
    }

    /// What went wrong.
    public let code: Code
    /// The extended SQLite result code, when SQLite reported the failure.
    public let sqliteCode: Int32?
    /// Which operation failed ("step", "open", "import entry 3"), for the log.
    public let operation: String
    /// A message without PHI or SQL arguments.
    public let message: String

    public init(_ code: Code, operation: String, message: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String {
        if let sqliteCode {
            return "StoreError(\(code), \(operation), sqlite \(sqliteCode)): \(message)"
        }
        return "StoreError(\(code), \(operation)): \(message)"
    }

    /// The primary SQLite result code (the low byte of the extended code), if any.
    public var sqlitePrimaryCode: Int32? {
        sqliteCode.map { $0 & 0xFF }
    }
}

extension StoreError {
    /// Translates an SQLite result code into a `StoreError`. This is the only place that does.
    ///
    /// The message is the operation plus SQLite's generic text for the code (`sqlite3_errstr`),
    /// which never contains statement arguments. `detail`, when given, must be text the program
    /// wrote itself (an SQL string with `?` placeholders, a table name), never a bound value.
    static func sqlite(_ resultCode: Int32, operation: String, detail: String? = nil)
        -> StoreError
    {
        let code: Code
        switch resultCode & 0xFF {
        case SQLITE_CANTOPEN: code = .cannotOpen
        case SQLITE_READONLY: code = .readOnly
        case SQLITE_FULL: code = .diskFull
        case SQLITE_BUSY, SQLITE_LOCKED: code = .busy
        case SQLITE_CONSTRAINT: code = .constraint
        case SQLITE_CORRUPT, SQLITE_NOTADB: code = .corrupt
        case SQLITE_IOERR: code = .ioError
        case SQLITE_AUTH: code = .notAuthorized
        case SQLITE_TOOBIG: code = .tooBig
        case SQLITE_MISUSE, SQLITE_RANGE: code = .misuse
        default: code = .sqlite
        }
        var message = operation + " failed: " + String(cString: sqlite3_errstr(resultCode))
        if let detail {
            message += " (" + detail + ")"
        }
        return StoreError(code, operation: operation, message: message, sqliteCode: resultCode)
    }
}
