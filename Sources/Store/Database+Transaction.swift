extension Database {
    /// Runs `body` inside a transaction: commits when it returns, rolls back when it throws.
    ///
    /// The outermost call issues `BEGIN IMMEDIATE`, taking the write lock up front so that a
    /// competing writer waits (busy timeout) at the start rather than failing at commit. A call
    /// nested inside another (or inside a transaction begun with `execute("BEGIN")`) uses a
    /// savepoint, so an inner failure undoes only the inner work.
    /// The error thrown by `body` is rethrown unchanged; a failed COMMIT is thrown as a
    /// `StoreError` after the transaction has been rolled back.
    @discardableResult
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        if transactionDepth > 0 || isInTransaction {
            return try savepoint(body)
        }
        try prepare("BEGIN IMMEDIATE").step()
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try prepare("COMMIT").step()
            return result
        } catch {
            rollbackAfterFailure()
            throw error
        }
    }

    /// Runs `body`'s reads as one snapshot: `BEGIN DEFERRED` … `COMMIT`.
    ///
    /// Every statement outside a transaction takes and releases SQLite's read locks on its own;
    /// grouping a request's reads pays that once and sees one consistent state of the store.
    /// Inside another transaction `body` just runs. `body` must not write.
    public func readTransaction<Result>(_ body: () throws -> Result) throws -> Result {
        if transactionDepth > 0 || isInTransaction {
            return try body()
        }
        try prepare("BEGIN DEFERRED").step()
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try prepare("COMMIT").step()
            return result
        } catch {
            rollbackAfterFailure()
            throw error
        }
    }

    private func savepoint<Result>(_ body: () throws -> Result) throws -> Result {
        transactionDepth += 1
        let name = "phigate_sp\(transactionDepth)"
        defer { transactionDepth -= 1 }
        try execute("SAVEPOINT " + name)
        do {
            let result = try body()
            try execute("RELEASE " + name)
            return result
        } catch {
            if isInTransaction {
                // If undoing the savepoint fails, the outer transaction's rollback still
                // discards this work; the error worth reporting is the one from `body`.
                try? execute("ROLLBACK TO " + name)
                try? execute("RELEASE " + name)
            }
            throw error
        }
    }

    /// Rolls back after `body` or COMMIT failed.
    ///
    /// Some failures (disk full, I/O errors) make SQLite roll back on its own; then there is
    /// no transaction left and nothing to do. A failing ROLLBACK is not reported because the
    /// error that caused it is the one the caller needs; SQLite discards the uncommitted
    /// changes when the connection closes in any case.
    private func rollbackAfterFailure() {
        guard isInTransaction else {
            return
        }
        _ = try? prepare("ROLLBACK").step()
    }
}
