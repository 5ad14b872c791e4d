import App
import Crypto
import Foundation
import Support
import Policy

/// `phigate import`, `phigate user …` and `phigate care assign`.
enum RecordCommands {
    static let importUsage = """
        Usage: phigate import [--config FILE] FILE|DIR...

        Loads FHIR R4 transaction or collection Bundles (Synthea's output is the reference input).
        A directory contributes its *.json files, hospital and practitioner bundles first.
        Each bundle is one transaction: a malformed bundle is refused, naming the entry, and
        nothing of it is written; the other bundles are still imported, the table counts what
        was written, and the exit status is 1 when any bundle was refused. Importing the same
        bundle again changes nothing.
        """

    static let userUsage = """
        Usage:
          phigate user add NAME --role ROLE [--practitioner ID] [--password-stdin]
          phigate user list
          phigate user disable NAME
          phigate user unlock NAME                      lift a login or second-factor lockout
          phigate user password NAME [--password-stdin] set a new password (ends their sessions)
          phigate user totp NAME                        issue a TOTP secret; prints it and its otpauth:// URI
          phigate user bind-cert NAME [--fingerprint SHA256] [--subject DN]
                                                        require this client certificate (mutual TLS)

        Roles: clinician, registrar, compliance, security-admin, ehr-system. --practitioner links a
        clinician to their FHIR Practitioner id (their encounters make care relationships).
        Without --password-stdin a random password is generated and printed once.
        Names are folded: surrounding spaces trimmed, lower case.
        """

    static let careUsage = """
        Usage: phigate care assign NAME PATIENT_ID

        Records an explicit care relationship between a clinician and a patient.
        """

    static func runImport(_ arguments: [String], environment: [String: String]) -> Int32 {
        var arguments = arguments
        if arguments.contains("--help") { return CommandLineInterface.printHelp(importUsage) }
        let loaded = CommandLineInterface.loadConfiguration(&arguments, environment: environment)
        guard let configuration = loaded.configuration else { return loaded.status }
        guard !arguments.isEmpty else { return CommandLineInterface.usageError(importUsage) }
        do {
            let admin = try Administration(configuration: configuration)
            let files = try Administration.bundleFiles(arguments)
            var totals: [String: (created: Int, updated: Int, unchanged: Int)] = [:]
            var resources = 0
            var refused = 0
            let started = Date()
            for file in files {
                do {
                    let result = try admin.importFile(file)
                    for (type, counts) in result.countsByType {
                        var total = totals[type] ?? (0, 0, 0)
                        total.created += counts.created
                        total.updated += counts.updated
                        total.unchanged += counts.unchanged
                        totals[type] = total
                        resources += counts.total
                    }
                } catch {
                    // One bundle is one transaction: nothing of this one was written, and the
                    // others do not depend on it.
                    CommandLineInterface.writeError(
                        "phigate: \(URL(fileURLWithPath: file).lastPathComponent): \(error) (not imported)")
                    refused += 1
                }
            }
            let seconds = Date().timeIntervalSince(started)
            print("type".column(28) + "created  updated  unchanged")
            for type in totals.keys.sorted() {
                let t = totals[type]!
                print(
                    type.column(28)
                        + pad(t.created, 7) + "  " + pad(t.updated, 7) + "  " + pad(t.unchanged, 9))
            }
            let rate = seconds > 0 ? Int(Double(resources) / seconds) : resources
            let imported = files.count - refused
            print("\(imported) bundles, \(resources) resources in \(String(format: "%.2f", seconds)) s (\(rate)/s)")
            guard refused == 0 else {
                CommandLineInterface.writeError("phigate: \(refused) of \(files.count) bundles refused; see above")
                return 1
            }
            return 0
        } catch {
            return CommandLineInterface.failure(error)
        }
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    static func runUser(_ arguments: [String], environment: [String: String]) -> Int32 {
        var arguments = arguments
        if arguments.contains("--help") { return CommandLineInterface.printHelp(userUsage) }
        if arguments.isEmpty { return CommandLineInterface.usageError(userUsage) }
        let loaded = CommandLineInterface.loadConfiguration(&arguments, environment: environment)
        guard let configuration = loaded.configuration else { return loaded.status }
        let verb = arguments.removeFirst()
        do {
            let admin = try Administration(configuration: configuration)
            switch verb {
            case "add":
                return try addUser(admin, arguments)
            case "list":
                guard arguments.isEmpty else { return CommandLineInterface.usageError(userUsage) }
                print(
                    "username".column(24)
                        + "role".column(16) + "practitioner      status")
                for account in try admin.listUsers() {
                    print(
                        account.username.column(24)
                            + account.role.rawValue.column(16)
                            + (account.practitionerID ?? "-").column(18)
                            + (account.disabled ? "disabled" : "active"))
                }
                return 0
            case "disable":
                guard arguments.count == 1 else { return CommandLineInterface.usageError(userUsage) }
                let (account, ended) = try admin.disableUser(arguments[0])
                let grants =
                    ended.count == 1 ? "1 active break-glass grant" : "\(ended.count) active break-glass grants"
                print("disabled \(account.username); their sessions and \(grants) are ended")
                return 0
            case "unlock":
                guard arguments.count == 1 else { return CommandLineInterface.usageError(userUsage) }
                print(try admin.unlockUser(arguments[0]) ? "lockout lifted" : "the account was not locked")
                return 0
            case "password":
                guard arguments.count == 1 || (arguments.count == 2 && arguments[1] == "--password-stdin") else {
                    return CommandLineInterface.usageError(userUsage)
                }
                let fromStdin = arguments.count == 2
                guard let password = newPassword(fromStandardInput: fromStdin) else { return 64 }
                try admin.setPassword(arguments[0], password: password)
                print("password changed; their sessions are ended")
                if !fromStdin { print("password (shown once): \(password)") }
                return 0
            case "bind-cert":
                guard let name = arguments.first, arguments.count % 2 == 1 else {
                    return CommandLineInterface.usageError(userUsage)
                }
                var options: [String: String] = [:]
                for index in stride(from: 1, to: arguments.count, by: 2) {
                    let option = arguments[index]
                    guard ["--fingerprint", "--subject"].contains(option), options[option] == nil else {
                        return CommandLineInterface.usageError(userUsage)
                    }
                    options[option] = arguments[index + 1]
                }
                let fingerprint = options["--fingerprint"]
                if let fingerprint, Administration.certificateFingerprint(fingerprint) == nil {
                    return CommandLineInterface.usageError(
                        "phigate: --fingerprint is the certificate's SHA-256 in hex (64 digits, colons allowed)")
                }
                guard fingerprint != nil || options["--subject"] != nil else {
                    return CommandLineInterface.usageError("phigate: give --fingerprint, --subject or both")
                }
                try admin.bindCertificate(name, fingerprint: fingerprint, subject: options["--subject"])
                print("bound: requests as \(name.lowercased()) now need that client certificate")
                return 0
            case "totp":
                guard arguments.count == 1 else { return CommandLineInterface.usageError(userUsage) }
                let issued = try admin.provisionTOTP(arguments[0])
                print("TOTP secret (shown once; add it to the user's authenticator app, then confirm with a code):")
                print("  secret: \(issued.secret)")
                print("  uri:    \(issued.uri)")
                print("Until a code is confirmed (POST /auth/totp/confirm) it cannot open break-glass.")
                print("The user cannot replace it by self-enrolment; run this command again to reissue it.")
                return 0
            default:
                return CommandLineInterface.usageError(userUsage)
            }
        } catch {
            return CommandLineInterface.failure(error)
        }
    }

    private static func addUser(_ admin: Administration, _ arguments: [String]) throws -> Int32 {
        var name: String?
        var role: Role?
        var practitioner: String?
        var passwordFromStdin = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--role":
                guard index + 1 < arguments.count, let parsed = Role(rawValue: arguments[index + 1]) else {
                    CommandLineInterface.writeError(
                        "phigate: --role must be one of " + Role.allCases.map(\.rawValue).joined(separator: ", "))
                    return 64
                }
                role = parsed
                index += 2
            case "--practitioner":
                guard index + 1 < arguments.count else { return CommandLineInterface.usageError(userUsage) }
                practitioner = arguments[index + 1]
                index += 2
            case "--password-stdin":
                passwordFromStdin = true
                index += 1
            default:
                guard name == nil, !argument.hasPrefix("--") else { return CommandLineInterface.usageError(userUsage) }
                name = argument
                index += 1
            }
        }
        guard let name, let role else { return CommandLineInterface.usageError(userUsage) }
        guard let password = newPassword(fromStandardInput: passwordFromStdin) else { return 64 }
        let account = try admin.addUser(name, role: role, practitionerID: practitioner, password: password)
        print("added \(account.username) (\(account.role.rawValue))")
        if let practitioner, try !admin.practitionerExists(practitioner) {
            // Not refused: accounts are often set up before the data is imported.
            CommandLineInterface.writeError(
                "phigate: note: the records hold no Practitioner/\(practitioner) yet; "
                    + "\(account.username) sees no patient until Encounters naming it are imported")
        }
        if !passwordFromStdin {
            print("password (shown once): \(password)")
        }
        return 0
    }

    /// A password from the first line of standard input, or a fresh 128-bit random one; nil
    /// (after saying why) when standard input was asked for and had none.
    private static func newPassword(fromStandardInput: Bool) -> String? {
        guard fromStandardInput else { return SecureRandom.token(byteCount: 16) }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            CommandLineInterface.writeError("phigate: no password on standard input")
            return nil
        }
        return line
    }

    static func runCare(_ arguments: [String], environment: [String: String]) -> Int32 {
        var arguments = arguments
        if arguments.contains("--help") { return CommandLineInterface.printHelp(careUsage) }
        if arguments.isEmpty { return CommandLineInterface.usageError(careUsage) }
        let loaded = CommandLineInterface.loadConfiguration(&arguments, environment: environment)
        guard let configuration = loaded.configuration else { return loaded.status }
        guard arguments.count == 3, arguments[0] == "assign" else { return CommandLineInterface.usageError(careUsage) }
        do {
            let admin = try Administration(configuration: configuration)
            try admin.assignCare(arguments[1], patientID: arguments[2])
            print("care relationship recorded")
            return 0
        } catch {
            return CommandLineInterface.failure(error)
        }
    }
}
