import Auth
import BreakGlass
import Crypto
import Foundation
import POSIX
import Support
import Policy
import Store

/// First-start demo data: generated patients and staff, and one account per role whose
/// passwords are printed once and never stored in clear.
enum DemoSetup {
    struct Credential {
        var username: String
        var role: Role
        var password: String
        var practitionerID: String?
        /// For clinicians: a confirmed TOTP secret (base32) and its otpauth URI.
        var totp: (secret: String, uri: String)?
    }

    struct Summary {
        var credentials: [Credential]
        var treatedPatient: DemoPatient?
        var untreatedPatient: DemoPatient?
        var patientCount: Int
    }

    /// The demo clinician is linked to this practitioner, who has encounters with some
    /// patients and not with others.
    static let clinicianPractitioner = "demo-prac-01"

    /// Imports the generated records and creates the demo accounts, unless accounts exist.
    static func populateIfEmpty(_ session: RecordsSession) throws -> Summary? {
        guard try session.identities.listAccounts().isEmpty else { return nil }
        let dataset = DemoDataGenerator.generate(seed: 2026)
        for bundle in dataset.bundles {
            _ = try session.records.importBundle(bytes: bundle)
        }
        let accounts: [(String, Role, String?)] = [
            ("dr.demo", .clinician, clinicianPractitioner),
            ("dr.colleague", .clinician, "demo-prac-02"),
            ("registrar.demo", .registrar, nil),
            ("compliance.demo", .compliance, nil),
            ("security.demo", .securityAdmin, nil),
            ("ehr.demo", .ehrSystem, nil),
        ]
        var credentials: [Credential] = []
        for (name, role, practitioner) in accounts {
            let password = SecureRandom.token(byteCount: 16)
            _ = try session.identities.addUser(name, role: role, practitionerID: practitioner, password: password)
            var totp: (String, String)?
            if role == .clinician {
                let secret = SecureRandom.bytes(20)
                try session.identities.setTOTPSecret(
                    name, secret: secret, encryptionKey: session.secretKey, confirmed: true,
                    issuedByAdministrator: true)
                totp = (Base32.encode(secret), SecondFactor.otpauthURI(username: name, secret: secret))
            }
            credentials.append(
                Credential(username: name, role: role, password: password, practitionerID: practitioner, totp: totp))
        }
        return Summary(
            credentials: credentials,
            treatedPatient: dataset.patients.first { $0.practitionerIDs.contains(clinicianPractitioner) },
            untreatedPatient: dataset.patients.first { !$0.practitionerIDs.contains(clinicianPractitioner) },
            patientCount: dataset.patients.count)
    }

    /// Where the printed example reaches the gateway: the configured address, with a wildcard
    /// address replaced by loopback and port 0 (chosen at bind time) left for the reader to fill.
    static func exampleBase(listen: SocketAddress, secure: Bool) -> String {
        var host = listen.host
        if host == "0.0.0.0" { host = "127.0.0.1" } else if host == "::" { host = "::1" }
        if listen.family == .ipv6 { host = "[" + host + "]" }
        let port = listen.port == 0 ? "<port from server.listening>" : String(listen.port)
        return (secure ? "https://" : "http://") + host + ":" + port
    }

    /// Writes the one-time credentials to stdout for the person who ran `make run`; `base` is
    /// where the example command reaches the gateway (see `exampleBase`).
    static func printCredentials(_ summary: Summary, base: String) {
        var text = "\nphigate demo data: \(summary.patientCount) generated patients (no real person).\n"
        text += "Demo accounts — the passwords are shown this once and stored only as scrypt hashes:\n\n"
        for credential in summary.credentials {
            let name = credential.username.column(18)
            let role = credential.role.rawValue.column(16)
            text += "  \(name) \(role) \(credential.password)\n"
        }
        text += "\nTOTP secrets for break-glass (add to an authenticator app, or compute codes with pyotp):\n"
        for credential in summary.credentials {
            guard let totp = credential.totp else { continue }
            text += "  \(credential.username.column(18)) \(totp.secret)\n    \(totp.uri)\n"
        }
        if let treated = summary.treatedPatient, let untreated = summary.untreatedPatient {
            text += "\ndr.demo treats patient \(treated.id); patient \(untreated.id) is not theirs (403,"
            text += " break-glass needed).\n"
        }
        text += "\nTry: curl -s -X POST \(base)/auth/login -H 'Content-Type: application/json' \\\n"
        text += "       -d '{\"username\":\"dr.demo\",\"password\":\"<password above>\"}'\n\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
