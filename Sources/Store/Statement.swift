internal import CSQLite

/// One compiled SQL statement: the sole owner of an `sqlite3_stmt*`, finalized in `deinit`.
///
/// Values only ever reach SQLite through `bind`, never through the SQL text. Parameters are
/// numbered from 1 as in SQL (`?1`); result columns from 0 as in the row. A statement belongs to
/// the `Database` that prepared it and shares its threading contract: one thread at a time.
/// It may outlive the `Database` object; SQLite keeps the connection until it is finalized.
public final class Statement {
    let handle: OpaquePointer
    /// The SQL text with placeholders; it never contains a bound value.
    public let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// How many `?` parameters the statement declares.
    public var parameterCount: Int {
        Int(sqlite3_bind_parameter_count(handle))
    }

    /// How many columns each result row has.
    public var columnCount: Int {
        Int(sqlite3_column_count(handle))
    }

    /// True between a `step()` that returned a row and the next `reset()` or end of rows.
    var isBusy: Bool {
        sqlite3_stmt_busy(handle) != 0
    }

    /// Resets, clears old bindings and binds `values` to parameters 1...n.
    ///
    /// Throws `.misuse` when the number of values differs from `parameterCount`.
    public func bind(_ values: [SQLiteValue]) throws {
        reset()
        sqlite3_clear_bindings(handle)
        guard values.count == parameterCount else {
            throw StoreError(
                .misuse, operation: "bind",
                message: "statement expects \(parameterCount) values, got \(values.count)")
        }
        for (offset, value) in values.enumerated() {
            try bind(value, at: offset + 1)
        }
    }

    /// Variadic form of `bind(_:)`.
    public func bind(_ values: SQLiteValue...) throws {
        try bind(values)
    }

    /// Binds one value to the parameter at `index` (1-based). Text and blobs are copied.
    public func bind(_ value: SQLiteValue, at index: Int) throws {
        let position = Int32(index)
        let result: Int32
        switch value {
        case .null:
            result = sqlite3_bind_null(handle, position)
        case .integer(let number):
            result = sqlite3_bind_int64(handle, position, number)
        case .real(let number):
            result = sqlite3_bind_double(handle, position, number)
        case .text(let string):
            result = Self.bindText(string, to: handle, at: position)
        case .blob(let bytes):
            result = bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress, !buffer.isEmpty else {
                    return sqlite3_bind_zeroblob(handle, position, 0)
                }
                return sqlite3_bind_blob64(
                    handle, position, base, sqlite3_uint64(buffer.count),
                    phigate_sqlite_transient())
            }
        }
        guard result == SQLITE_OK else {
            throw StoreError.sqlite(result, operation: "bind", detail: sql)
        }
    }

    /// Runs `body` with `first` and `second` bound to parameters 1 and 2 in place: SQLite
    /// reads the strings' own bytes instead of copying them, which makes a keyed lookup one
    /// allocation cheaper per parameter.
    ///
    /// The bindings exist only inside `body`, which must do all its stepping there; afterwards
    /// the statement is reset and its bindings cleared, so no later step can reach the bytes.
    public func withText<Result>(
        _ first: String, _ second: String, _ body: (Statement) throws -> Result
    ) throws -> Result {
        var first = first
        var second = second
        reset()
        defer {
            reset()
            sqlite3_clear_bindings(handle)
        }
        return try first.withUTF8 { firstBytes in
            try second.withUTF8 { secondBytes in
                try bindInPlace(firstBytes, at: 1)
                try bindInPlace(secondBytes, at: 2)
                return try body(self)
            }
        }
    }

    /// Binds `bytes` as text without a copy; valid only while `bytes` is. Empty text, which
    /// may have no buffer at all, is bound as a copy of "".
    private func bindInPlace(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int32) throws {
        let result = bytes.withMemoryRebound(to: CChar.self) { chars in
            guard let base = chars.baseAddress, !chars.isEmpty else {
                return sqlite3_bind_text(handle, position, "", 0, phigate_sqlite_transient())
            }
            return sqlite3_bind_text64(
                handle, position, base, sqlite3_uint64(chars.count), phigate_sqlite_static(),
                UInt8(SQLITE_UTF8))
        }
        guard result == SQLITE_OK else {
            throw StoreError.sqlite(result, operation: "bind", detail: sql)
        }
    }

    private static func bindText(_ string: String, to handle: OpaquePointer, at position: Int32)
        -> Int32
    {
        var copy = string
        return copy.withUTF8 { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else {
                return sqlite3_bind_text(handle, position, "", 0, phigate_sqlite_transient())
            }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { chars in
                sqlite3_bind_text64(
                    handle, position, chars, sqlite3_uint64(buffer.count),
                    phigate_sqlite_transient(), UInt8(SQLITE_UTF8))
            }
        }
    }

    /// Advances to the next row. Returns true when a row is available, false when done.
    ///
    /// A failure is translated once into `StoreError` (`.constraint`, `.readOnly`, `.busy`,
    /// `.diskFull`, ...) after the statement has been reset: a failed statement left unreset
    /// counts as "in progress" and would make a later COMMIT on the connection fail.
    @discardableResult
    public func step() throws -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            sqlite3_reset(handle)
            throw StoreError.sqlite(result, operation: "step", detail: sql)
        }
    }

    /// Binds `values`, steps until done and resets: the form for INSERT, UPDATE and DELETE.
    public func run(_ values: [SQLiteValue]) throws {
        try bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Variadic form of `run(_:)`.
    public func run(_ values: SQLiteValue...) throws {
        try run(values)
    }

    /// Rewinds the statement so that it can be stepped again; bindings are kept.
    ///
    /// `sqlite3_reset` repeats the error of the last failed `step()`, which `step()` already
    /// threw, so its result is deliberately not reported a second time.
    public func reset() {
        sqlite3_reset(handle)
    }

    /// The integer in column `index` of the current row (0 for NULL).
    public func int64(at index: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(index))
    }

    /// `int64(at:)` as a platform integer.
    public func int(at index: Int) -> Int {
        Int(sqlite3_column_int64(handle, Int32(index)))
    }

    /// The floating-point value in column `index` (0 for NULL).
    public func double(at index: Int) -> Double {
        sqlite3_column_double(handle, Int32(index))
    }

    /// The text in column `index`, or nil when the column is NULL.
    public func text(at index: Int) -> String? {
        let column = Int32(index)
        guard let pointer = sqlite3_column_text(handle, column) else {
            return nil
        }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// The bytes in column `index`; empty for NULL or an empty blob.
    public func blob(at index: Int) -> [UInt8] {
        let column = Int32(index)
        guard let pointer = sqlite3_column_blob(handle, column) else {
            return []
        }
        let count = Int(sqlite3_column_bytes(handle, column))
        // One memcpy: the generic Sequence initialiser copies a raw buffer byte by byte.
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: count))
            initialized = count
        }
    }

    /// True when column `index` of the current row is NULL.
    public func isNull(at index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    /// Column `index` as a typed value, following the storage class SQLite reports.
    public func value(at index: Int) -> SQLiteValue {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: return .integer(int64(at: index))
        case SQLITE_FLOAT: return .real(double(at: index))
        case SQLITE_TEXT: return .text(text(at: index) ?? "")
        case SQLITE_BLOB: return .blob(blob(at: index))
        default: return .null
        }
    }
}
