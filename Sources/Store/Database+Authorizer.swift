internal import CSQLite

/// The set of append-only tables the authorizer callback consults.
///
/// Immutable after creation; the `Database` keeps it alive while SQLite holds a pointer to it.
final class WriteGuard {
    /// Lowercased table names: SQLite compares identifiers without regard to ASCII case.
    let tables: Set<String>

    init(tables: Set<String>) {
        self.tables = Set(tables.map { $0.lowercased() })
    }

    /// The authorizer's verdict for one action: SQLITE_DENY or SQLITE_OK.
    func verdict(action: Int32, first: UnsafePointer<CChar>?, second: UnsafePointer<CChar>?)
        -> Int32
    {
        let table: UnsafePointer<CChar>?
        switch action {
        case SQLITE_UPDATE, SQLITE_DELETE, SQLITE_DROP_TABLE:
            table = first
        case SQLITE_ALTER_TABLE, SQLITE_DROP_TRIGGER:
            table = second
        default:
            return SQLITE_OK
        }
        guard let table else {
            return SQLITE_OK
        }
        return tables.contains(String(cString: table).lowercased()) ? SQLITE_DENY : SQLITE_OK
    }
}

extension Database {
    /// Makes SQLite refuse to compile any statement that updates, deletes from, drops, alters or
    /// drops a trigger of one of `tables` on this connection; INSERT and SELECT stay allowed.
    ///
    /// A refused statement fails in `prepare` with `.notAuthorized`. The check covers this
    /// connection only (another connection or process is not bound by it) and cannot see
    /// `INSERT OR REPLACE`, whose implicit delete SQLite does not authorize: an append-only table
    /// should also reject conflicts with a trigger. An empty set removes the authorizer.
    /// Statements already prepared are recompiled under the new rules.
    public func setAuthorizer(denyingWritesTo tables: Set<String>) throws {
        clearStatementCache()
        guard !tables.isEmpty else {
            try check(sqlite3_set_authorizer(handle, nil, nil), operation: "set_authorizer")
            writeGuard = nil
            return
        }
        let rules = WriteGuard(tables: tables)
        let context = Unmanaged.passUnretained(rules).toOpaque()
        let result = sqlite3_set_authorizer(
            handle,
            { context, action, first, second, _, _ in
                guard let context else {
                    return SQLITE_DENY
                }
                let rules = Unmanaged<WriteGuard>.fromOpaque(context).takeUnretainedValue()
                return rules.verdict(action: action, first: first, second: second)
            },
            context)
        try check(result, operation: "set_authorizer")
        // Replaced only after SQLite points at the new rules, so the old ones outlive their use.
        writeGuard = rules
    }

    private func check(_ result: Int32, operation: String) throws {
        guard result == SQLITE_OK else {
            throw StoreError.sqlite(result, operation: operation)
        }
    }
}
