import Audit
import Crypto
import Foundation
import Store

/// The offline side of the audit log for the command line: verification of a copy, and exports.
public enum AuditTools {
    /// What `phigate audit verify` found, ready to print.
    public struct Verification {
        public var ok: Bool
        public var summary: String
        public var json: String
        public var entriesPerSecond: Int
    }

    /// Verifies the log at `database` against the public key PEM at `publicKeyPath`, optionally
    /// against an anchor checkpoint (a signed note kept outside this machine).
    public static func verify(
        database path: String, publicKeyPath: String, keyName: String, anchorPath: String?
    ) throws -> Verification {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AdministrationError("no audit database at \(path)")
        }
        let pem = try String(contentsOfFile: publicKeyPath, encoding: .utf8)
        let publicKey = try Ed25519PublicKey(pem: pem)
        let anchor = try anchorPath.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let database = try Database(path: path, readOnly: true)
        let started = Date()
        let report = AuditVerifier.verify(database: database, publicKey: publicKey, keyName: keyName, anchor: anchor)
        let seconds = max(Date().timeIntervalSince(started), 1e-6)
        let rate = Int(Double(report.entriesChecked) / seconds)
        var summary: String
        if let bad = report.firstBad {
            summary = "audit log FAILED verification at entry \(bad.seq): \(bad.reason) — \(bad.message)"
            if bad.suspectFrom != bad.seq { summary += " (entries from \(bad.suspectFrom) on are suspect)" }
        } else {
            summary = "audit log OK: \(report.entriesChecked) entries, \(report.checkpointsChecked) signed checkpoints"
            summary += ", head \(report.headSeq)"
            if report.anchorChecked { summary += ", anchor matched" }
            if report.entriesAfterLastCheckpoint > 0 {
                summary +=
                    "; \(report.entriesAfterLastCheckpoint) entries after the last checkpoint are covered by the chain only"
            }
        }
        summary += String(format: " [%.3f s, %d entries/s]", seconds, rate)
        return Verification(
            ok: report.ok, summary: summary, json: AuditRoutes.reportJSON(report), entriesPerSecond: rate)
    }

    /// Writes the log at `database` in `format` to `output`, page by page.
    public static func export(
        database path: String, format name: String, filterItems: [(name: String, value: String)],
        to output: FileHandle
    ) throws {
        guard let format = AuditExportFormat(rawValue: name) else {
            throw AdministrationError("--format is ndjson, fhir or cef")
        }
        let (filter, limit, cursor) = try AuditRoutes.filter(filterItems, maximumLimit: nil)
        let stream = AuditExportStream(
            reader: try AuditReader.open(path: path), filter: filter, cursor: cursor, limit: limit, format: format)
        while let piece = try stream.next() {
            output.write(Data(piece))
        }
    }
}
