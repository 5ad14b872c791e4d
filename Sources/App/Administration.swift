import Audit
import Auth
import BreakGlass
import Crypto
import Foundation
import Policy
import Store
import Support
import Webhooks

/// The command line's door to the records and identities: import, accounts, care assignments.
///
/// Opens its own connection to the same database the server uses (WAL lets both run at once).
public final class Administration {
    private let session: RecordsSession

    public init(configuration: Configuration) throws {
        try Gateway.prepareDataDirectory(configuration.dataDirectory)
        session = try RecordsSession(path: configuration.recordsDatabasePath, services: Gateway.services(configuration))
    }

    /// What one file's import did.
    public struct FileImport {
        public var path: String
        public var countsByType: [String: ImportReport.Counts]
        public var unresolvedReferences: Int
    }

    /// The bundle files among `paths`: files as given, directories expanded to their `*.json`
    /// files, directory and hospital bundles first so conditional references resolve.
    public static func bundleFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw AdministrationError("no such file or directory: \(path)")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { $0.hasSuffix(".json") }
                let ordered = names.sorted { a, b in
                    let aShared = a.hasPrefix("hospitalInformation") || a.hasPrefix("practitionerInformation")
                    let bShared = b.hasPrefix("hospitalInformation") || b.hasPrefix("practitionerInformation")
                    return aShared != bShared ? aShared : a < b
                }
                files += ordered.map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// Imports one bundle file in one transaction; a malformed bundle writes nothing.
    ///
    /// The audit entry names the file by the SHA-256 of its bytes, not by its name: exporters
    /// name bundle files after the patient (Synthea writes `Given_Family_<uuid>.json`), and
    /// names are PHI that the audit log, read by compliance and sent to a SIEM, must not hold.
    public func importFile(_ path: String) throws -> FileImport {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let report = try session.records.importBundle(data: data)
        try record(
            "admin.import",
            details: [
                "file_sha256": Hex.encode(SHA256.hash(data)),
                "created": String(report.totals.created), "updated": String(report.totals.updated),
            ], resources: report.resources.filter { $0.outcome != .unchanged }.map { "\($0.type)/\($0.id)" })
        return FileImport(
            path: path, countsByType: report.countsByType, unresolvedReferences: report.unresolvedReferences)
    }

    public func addUser(_ name: String, role: Role, practitionerID: String?, password: String) throws -> Account {
        let account = try session.identities.addUser(
            name, role: role, practitionerID: practitionerID, password: password)
        try record(
            "admin.user_add", subject: account.username,
            details: [
                "role": role.rawValue, "practitioner": practitionerID ?? "",
            ])
        return account
    }

    /// True when the records hold `Practitioner/<id>`. A clinician linked to a practitioner
    /// the records do not know sees no patient until an import brings Encounters naming it.
    public func practitionerExists(_ id: String) throws -> Bool {
        try session.records.resource(type: "Practitioner", id: id) != nil
    }

    public func listUsers() throws -> [Account] { try session.identities.listAccounts() }

    /// Disables the account, ends its sessions and ends its active break-glass grants, in one
    /// transaction; returns the account and the ids of the grants ended. Each grant's end is
    /// recorded with the operator as who ended it, audited and alerted (`break_glass.ended`),
    /// as an end through the API is.
    public func disableUser(_ name: String) throws -> (account: Account, endedGrants: [String]) {
        try session.database.transaction {
            let account = try session.identities.disable(name)
            let ended = try session.grants.endActive(
                holder: account.username, endedBy: AdminAuditQueue.operatorName
            ) { grant in
                let endedAt = grant.endedAt ?? WallClock().unixSeconds()
                var payload = JSONObjectWriter()
                payload.add("grant_id", grant.id)
                payload.add("user", grant.holder)
                payload.add("patient", grant.patientID)
                payload.add("ended_by", grant.endedBy)
                payload.add("ended_at", endedAt)
                let event = try WebhookEvent(
                    type: WebhookEventType.breakGlassEnded, timestamp: endedAt, payload: payload.bytes)
                try Outbox.enqueue(event: event, in: session.database)
                try record(
                    "break_glass.end", subject: account.username, patient: grant.patientID, grant: grant.id,
                    details: ["cause": "account_disabled"])
            }
            try record("admin.user_disable", subject: account.username)
            return (account, ended.map(\.id))
        }
    }

    /// Queues an administrative change for the audit log (see `AdminAuditQueue`).
    private func record(
        _ event: String, subject: String? = nil, patient: String? = nil, grant: String? = nil,
        details: [String: String] = [:], resources: [String] = []
    ) throws {
        var details = details.filter { !$0.value.isEmpty }
        if let subject { details["subject"] = subject }
        let entry = AuditEntry(
            time: WallClock().unixMilliseconds(), event: event, actor: AdminAuditQueue.operatorName,
            roles: ["operator"], action: event, outcome: "allowed", status: 0, patient: patient,
            resources: resources, grant: grant, details: details)
        try AdminAuditQueue.enqueue(entry, in: session.database)
    }

    /// Lifts a login lockout; true when there was one.
    public func unlockUser(_ name: String) throws -> Bool {
        guard try session.identities.account(name) != nil else { throw AdministrationError("no such user") }
        let login = try session.authenticator.unlock(name)
        let factor = try session.secondFactor.unlock(name)
        try record("admin.user_unlock", subject: name.lowercased())
        return login || factor
    }

    /// Sets a new password; the account's sessions end.
    public func setPassword(_ name: String, password: String) throws {
        try session.identities.setPassword(name, password: password)
        try record("admin.user_password", subject: name.lowercased())
    }

    /// Binds an account to a client certificate (SHA-256 fingerprint and/or subject DN); its
    /// requests are then refused without that certificate over mutual TLS.
    /// A SHA-256 fingerprint as bindings store it (64 lowercase hex digits), from hex in either
    /// case with or without colons; nil for anything else.
    public static func certificateFingerprint(_ text: String) -> String? {
        let cleaned = text.lowercased().filter { $0 != ":" }
        return cleaned.utf8.count == 64 && cleaned.allSatisfy(\.isHexDigit) ? cleaned : nil
    }

    public func bindCertificate(_ name: String, fingerprint: String?, subject: String?) throws {
        guard let account = try session.identities.account(name) else { throw AdministrationError("no such user") }
        var cleaned: String?
        if let fingerprint {
            guard let valid = Self.certificateFingerprint(fingerprint) else {
                throw AdministrationError(
                    "--fingerprint is the certificate's SHA-256 in hex (64 digits, colons allowed)")
            }
            cleaned = valid
        }
        guard cleaned != nil || subject != nil else {
            throw AdministrationError("give --fingerprint, --subject or both")
        }
        try session.database.transaction {
            try CertificateBindings.bind(
                account.username, .init(fingerprintSHA256: cleaned, subject: subject), in: session.database)
            try record(
                "admin.user_bind_certificate", subject: account.username,
                details: [
                    "fingerprint": cleaned ?? "", "certificate_subject": subject ?? "",
                ])
        }
    }

    /// Issues a (new) TOTP secret for the account: the secret in base32 and its otpauth URI.
    /// Replaces any earlier one, confirmed or not, as an administrator re-issuing a lost
    /// authenticator would; the holder cannot replace it by self-enrolment, only confirm it.
    public func provisionTOTP(_ name: String) throws -> (secret: String, uri: String) {
        let enrollment = try session.secondFactor.provision(name, issuer: .administrator)
        try record("admin.user_totp", subject: name.lowercased())
        return (enrollment.secretBase32, enrollment.otpauthURI)
    }

    /// Records an explicit care relationship; the patient must exist.
    public func assignCare(_ name: String, patientID: String) throws {
        guard let account = try session.identities.account(name) else {
            throw AdministrationError("no such user")
        }
        guard account.role == .clinician else {
            throw AdministrationError(
                "care relationships are for clinicians; \(account.username) is \(account.role.rawValue)")
        }
        guard try session.records.storedResource(type: "Patient", id: patientID) != nil else {
            throw AdministrationError("no patient with that id")
        }
        try session.identities.assignCare(name, patientID: patientID)
        try record("admin.care_assign", subject: account.username, patient: patientID)
    }
}

/// A failed administrative command, with a message fit for the terminal.
public struct AdministrationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
