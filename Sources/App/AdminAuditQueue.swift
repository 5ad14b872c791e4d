import Audit
import Foundation
import Store
import Support

/// Administrative changes made from the command line, on their way into the audit log.
///
/// The audit log has one writer, the running gateway, so a command such as `phigate user add`
/// does not write to it directly: it records the entry in the records database in the same
/// transaction as the change, and the gateway moves pending entries into the audit log at start
/// and every few seconds, deleting each only after it is durable there (at least once: a crash
/// between the two can repeat an entry, never lose one).
enum AdminAuditQueue {
    static let migrator = Migrator(
        component: "admin_audit",
        scripts: [
            """
            CREATE TABLE admin_audit_pending (
                id INTEGER PRIMARY KEY,
                entry BLOB NOT NULL
            );
            """
        ])

    static func prepare(_ database: Database) throws {
        _ = try migrator.migrate(database)
    }

    /// Queues `entry` through `database` (inside the caller's transaction when one is open).
    static func enqueue(_ entry: AuditEntry, in database: Database) throws {
        try database.run(
            "INSERT INTO admin_audit_pending(entry) VALUES (?)", [.blob(try AuditCanonicalEncoder.encode(entry))])
    }

    /// Moves up to 1000 pending entries into the audit log; returns how many.
    static func drain(_ database: Database, into trail: AuditTrail) throws -> Int {
        let rows = try database.query(
            "SELECT id, entry FROM admin_audit_pending ORDER BY id LIMIT 1000", []
        ) { row in (row.int64(at: 0), row.blob(at: 1)) }
        for (id, bytes) in rows {
            try trail.record(try AuditCanonicalEncoder.decode(bytes))
            try database.run("DELETE FROM admin_audit_pending WHERE id = ?", [.integer(id)])
        }
        return rows.count
    }

    /// Who ran the command: the operating-system account, as far as the process can tell.
    static var operatorName: String {
        let name =
            ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
            ?? "uid-\(getuid())"
        return "cli:" + String(name.prefix(64))
    }
}
