import Server
import Store
import TLS

/// Accounts bound to a client certificate: requests authenticated as such an account are
/// refused unless they arrive over mutual TLS with that certificate, whatever token they carry.
///
/// Meant for ehr-system service accounts, whose bearer tokens live in another system's memory:
/// a stolen token is useless without the system's private key.
enum CertificateBindings {
    static let migrator = Migrator(
        component: "client_certificates",
        scripts: [
            """
            CREATE TABLE client_certificate_bindings (
                username TEXT PRIMARY KEY,
                fingerprint_sha256 TEXT,
                subject TEXT,
                CHECK (fingerprint_sha256 IS NOT NULL OR subject IS NOT NULL)
            );
            """
        ])

    struct Binding: Equatable {
        var fingerprintSHA256: String?
        var subject: String?

        /// A verified certificate whose fingerprint (and subject, when bound) match.
        func accepts(_ certificate: PeerCertificate?) -> Bool {
            guard let certificate, certificate.verified else { return false }
            if let fingerprintSHA256, fingerprintSHA256 != certificate.fingerprintSHA256 { return false }
            if let subject, subject != certificate.subject { return false }
            return true
        }
    }

    static func prepare(_ database: Database) throws {
        _ = try migrator.migrate(database)
    }

    static func binding(for username: String, in database: Database) throws -> Binding? {
        try database.query(
            "SELECT fingerprint_sha256, subject FROM client_certificate_bindings WHERE username = ?",
            [.text(username)]
        ) { row in
            Binding(
                fingerprintSHA256: row.isNull(at: 0) ? nil : row.text(at: 0),
                subject: row.isNull(at: 1) ? nil : row.text(at: 1))
        }.first
    }

    static func bind(_ username: String, _ binding: Binding, in database: Database) throws {
        try database.run(
            "INSERT INTO client_certificate_bindings(username, fingerprint_sha256, subject) VALUES (?, ?, ?) "
                + "ON CONFLICT(username) DO UPDATE SET fingerprint_sha256 = excluded.fingerprint_sha256, "
                + "subject = excluded.subject",
            [.text(username), .optionalText(binding.fingerprintSHA256), .optionalText(binding.subject)])
    }
}
