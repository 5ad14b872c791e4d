import Audit
import Foundation
import Store

/// Refuses to replace a lost key that stored data depends on.
///
/// The data directory's keys are made on first start. Made again later, a key would quietly
/// cut the data off from its past: a new audit signing key leaves every stored checkpoint
/// unverifiable, a new secrets key every sealed TOTP seed and webhook secret unreadable. So a
/// key may be created only while nothing it would have protected exists yet; otherwise the
/// missing file stops start-up, named, for the operator to restore from backup.
enum KeyCustody {
    /// Throws when `keyFile` is absent and `database` holds rows of `dependents` (a table and
    /// the condition its dependent rows meet). A database or table that does not exist yet
    /// holds none.
    static func requirePresentKey(
        _ keyFile: String, protecting database: String, dependents: [(table: String, condition: String)],
        what: String
    ) throws {
        guard !FileManager.default.fileExists(atPath: keyFile),
            FileManager.default.fileExists(atPath: database)
        else { return }
        let connection = try Database(path: database, readOnly: true)
        var count: Int64 = 0
        for (table, condition) in dependents {
            let exists = try connection.scalar(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", [.text(table)])
            guard exists == 1 else { continue }
            // Table names and conditions are fixed strings of this file, never input.
            count += try connection.scalar("SELECT count(*) FROM \(table) WHERE \(condition)") ?? 0
        }
        guard count > 0 else { return }
        throw ConfigurationError(
            key: "data_dir",
            message: "\((keyFile as NSString).lastPathComponent) is missing, but \(count) \(what) in "
                + "\((database as NSString).lastPathComponent) depend on it; restore the key file from backup "
                + "(a new key would leave them unusable)")
    }

    /// The audit signing key, while the audit log holds checkpoints signed with it.
    static func requireAuditKey(_ configuration: Configuration) throws {
        try requirePresentKey(
            configuration.dataDirectory + "/" + AuditSigningKey.privateKeyFileName,
            protecting: configuration.auditDatabasePath, dependents: [("audit_checkpoints", "1")],
            what: "signed audit checkpoints")
    }

    /// The secrets key, while sealed TOTP seeds or webhook secrets exist.
    static func requireSecretsKey(_ configuration: Configuration) throws {
        try requirePresentKey(
            configuration.dataDirectory + "/" + SecretKey.fileName, protecting: configuration.recordsDatabasePath,
            dependents: [("account_totp", "1"), ("webhook_subscribers", "sealed_secret IS NOT NULL")],
            what: "sealed secrets (TOTP seeds, webhook secrets)")
    }
}
