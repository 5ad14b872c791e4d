import Audit
import Crypto
import Foundation
import Server
import Store

/// Why an offline audit command could not run, in words for the person who typed it.
///
/// `isUsage` separates a command given wrongly (an option value out of its set, a malformed
/// filter) from a run that failed (a missing file, an unreadable database). The message names
/// paths and options only: never a key, a note or an entry's contents.
public struct AuditToolError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let isUsage: Bool

    init(_ message: String, usage: Bool = false) {
        self.message = message
        self.isUsage = usage
    }

    public var description: String { message }
}

/// The offline side of the audit log for the command line: verification of a copy, and exports.
public enum AuditTools {
    /// What `phigate audit verify` found, ready to print.
    public struct Verification {
        public var ok: Bool
        public var summary: String
        public var json: String
        public var entriesPerSecond: Int
    }

    /// The filters `export` takes: those of `/audit/export`, one list for both.
    public static var exportFilterNames: [String] { AuditRoutes.filterNames }

    /// The largest public key or anchor file read; both are a few hundred bytes.
    static let maximumTextFileBytes = 64 * 1024

    /// Verifies the log at `database` against the public key PEM at `publicKeyPath`, optionally
    /// against an anchor checkpoint (a signed note kept outside this machine). `checkpointEvery`
    /// is the writer's setting (at least 1): more entries than that without a checkpoint fail.
    ///
    /// Throws when a file cannot be read or the key is not an Ed25519 public key; a log or an
    /// anchor that fails verification is a result, not an error.
    public static func verify(
        database path: String, publicKeyPath: String, keyName: String, anchorPath: String?,
        checkpointEvery: Int64
    ) throws(AuditToolError) -> Verification {
        try requireDatabase(path)
        let pem = try readText(publicKeyPath, what: "the public key file")
        let publicKey: Ed25519PublicKey
        do {
            publicKey = try Ed25519PublicKey(pem: pem)
        } catch {
            throw AuditToolError("the public key file \(publicKeyPath) is not an Ed25519 public key in PEM form")
        }
        let anchor = try anchorPath.map { path throws(AuditToolError) in
            try readText(path, what: "the anchor file")
        }
        let database: Database
        do {
            // A copy in a directory we cannot write is read as immutable, or not at all.
            database = try Database(
                path: path, readOnly: true, immutable: Database.needsImmutableOpen(path: path))
        } catch {
            throw AuditToolError("cannot open the audit database \(path): \(reason(error))" + walHint(path))
        }
        let started = Date()
        let report = AuditVerifier.verify(
            database: database, publicKey: publicKey, keyName: keyName, anchor: anchor,
            checkpointEvery: checkpointEvery)
        let seconds = max(Date().timeIntervalSince(started), 1e-6)
        let rate = Int(Double(report.entriesChecked) / seconds)
        var summary: String
        if let bad = report.firstBad {
            summary = "audit log FAILED verification at entry \(bad.seq): \(bad.reason) — \(bad.message)"
            if bad.suspectFrom != bad.seq { summary += " (entries from \(bad.suspectFrom) on are suspect)" }
        } else {
            summary = "audit log OK: \(report.entriesChecked) entries, \(report.checkpointsChecked) signed checkpoints"
            if report.indexChecked { summary += ", \(report.indexBlocksChecked) index blocks" }
            summary += ", head \(report.headSeq)"
            if report.anchorChecked { summary += ", anchor matched" }
            if report.entriesAfterLastCheckpoint > 0 {
                summary += "; \(report.entriesAfterLastCheckpoint) entries after the last checkpoint"
                summary += " are covered by the chain only"
            }
        }
        summary += String(format: " [%.3f s, %d entries/s]", seconds, rate)
        return Verification(
            ok: report.ok, summary: summary, json: AuditRoutes.reportJSON(report), entriesPerSecond: rate)
    }

    /// Writes the log at `database` in `format` to `output`, page by page.
    ///
    /// An unknown format or a malformed filter value is a usage error; the filter names are
    /// the query parameters of `/audit/export`, which the caller has already checked.
    public static func export(
        database path: String, format name: String, filterItems: [(name: String, value: String)],
        to output: FileHandle
    ) throws(AuditToolError) {
        guard let format = AuditExportFormat(rawValue: name) else {
            throw AuditToolError("--format is ndjson, fhir or cef", usage: true)
        }
        let filter: AuditFilter
        let limit: Int?
        let cursor: Int64
        do {
            (filter, limit, cursor) = try AuditRoutes.filter(filterItems, maximumLimit: nil)
        } catch let problem as HTTPProblem {
            let detail = problem.detail.hasSuffix(".") ? String(problem.detail.dropLast()) : problem.detail
            throw AuditToolError("invalid filter: " + detail, usage: true)
        } catch {
            throw AuditToolError("invalid filter")
        }
        try requireDatabase(path)
        let reader: AuditReader
        do {
            reader = try AuditReader.open(path: path, offline: true)
        } catch {
            throw AuditToolError("cannot open the audit database \(path): \(reason(error))" + walHint(path))
        }
        let stream = AuditExportStream(
            reader: reader, filter: filter, cursor: cursor, limit: limit, format: format)
        do {
            while let piece = try stream.next() {
                output.write(Data(piece))
            }
        } catch {
            throw AuditToolError("cannot read the audit database \(path): \(reason(error))")
        }
    }

    /// Why a copy with its WAL may not open where it lies, and what to do, or "".
    ///
    /// Committed entries can still be in the `-wal` file beside a copy; reading them needs the
    /// `-shm` file, which SQLite must be able to create. Without it the copy is not read at all
    /// rather than read without its newest entries.
    private static func walHint(_ path: String) -> String {
        guard Database.hasPendingWAL(path: path), !Database.isInWritableDirectory(path: path) else { return "" }
        return "; its -wal file holds entries that can only be read where the directory is writable:"
            + " copy the database with its -wal file to such a directory"
    }

    private static func requireDatabase(_ path: String) throws(AuditToolError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            // fileExists is also false for a file in a directory we may not search.
            if access(path, F_OK) != 0, errno == EACCES {
                throw AuditToolError("cannot read the audit database \(path): permission denied")
            }
            throw AuditToolError("no audit database at \(path)")
        }
        guard !isDirectory.boolValue else {
            throw AuditToolError("no audit database at \(path): it is a directory")
        }
    }

    /// The UTF-8 text of a small file the operator named, or an error saying why not.
    static func readText(_ path: String, what: String) throws(AuditToolError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AuditToolError("cannot read \(what) \(path): no such file")
        }
        guard !isDirectory.boolValue else {
            throw AuditToolError("cannot read \(what) \(path): it is a directory")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            // try?: closing a file that was only read cannot lose anything.
            defer { try? handle.close() }
            data = try handle.read(upToCount: maximumTextFileBytes + 1) ?? Data()
        } catch {
            throw AuditToolError("cannot read \(what) \(path): \(reason(error))")
        }
        guard data.count <= maximumTextFileBytes else {
            throw AuditToolError("cannot read \(what) \(path): it is larger than \(maximumTextFileBytes / 1024) KiB")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AuditToolError("cannot read \(what) \(path): it is not UTF-8 text")
        }
        return text
    }

    /// A short plain reason for a failure to read a file or the database.
    static func reason(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.message }
        if let error = error as? AuditError { return error.message }
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: nsError.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file"
            case .fileReadNoPermission: return "permission denied"
            default: break
            }
            if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
                return reason(underlying)
            }
        }
        if nsError.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(nsError.code))).lowercased()
        }
        return "the file cannot be read"
    }
}
