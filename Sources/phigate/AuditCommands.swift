import App
import Foundation

/// `phigate audit verify` and `phigate audit export`.
enum AuditCommands {
    static let usage = """
        Usage:
          phigate audit verify [--db FILE] [--public-key FILE] [--key-name NAME] [--anchor FILE] [--json]
          phigate audit export --format ndjson|fhir|cef [--db FILE] [--actor U] [--patient ID]
                               [--event E] [--outcome allowed|denied|error] [--since T] [--until T] [--grant G]
                               [--limit N] [--cursor SEQ]

        verify re-derives every hash of the audit log from the stored bytes, checks each entry's
        canonical form, sequence continuity and every signed checkpoint, and names the first bad
        entry. It works offline on a copy. --anchor takes a checkpoint (signed note) kept outside
        the machine, which also catches a tail deleted together with its checkpoints. Exit status 0
        only when everything verifies. Defaults: the data directory's audit.sqlite and
        audit-signing.pub, and the configured audit.key_name.

        export writes the log to standard output: canonical entries (ndjson), FHIR R4 AuditEvent
        NDJSON (fhir), or CEF lines for a SIEM (cef). Times are RFC 3339 or Unix milliseconds.
        --limit stops after N entries; --cursor resumes after the entry numbered SEQ.
        """

    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        var arguments = arguments
        if arguments.isEmpty || arguments.contains("--help") { return CommandLineInterface.printHelp(usage) }
        guard let configuration = CommandLineInterface.loadConfiguration(&arguments, environment: environment) else {
            return 78
        }
        let verb = arguments.removeFirst()
        var options: [String: String] = [:]
        var flags: Set<String> = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { return CommandLineInterface.usageError(usage) }
            if argument == "--json" {
                flags.insert(argument)
                index += 1
                continue
            }
            guard index + 1 < arguments.count else { return CommandLineInterface.usageError(usage) }
            options[String(argument.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
        let database = options.removeValue(forKey: "db") ?? configuration.auditDatabasePath
        do {
            switch verb {
            case "verify":
                let publicKey =
                    options.removeValue(forKey: "public-key")
                    ?? configuration.dataDirectory + "/audit-signing.pub"
                let keyName = options.removeValue(forKey: "key-name") ?? configuration.audit.keyName
                let anchor = options.removeValue(forKey: "anchor")
                guard options.isEmpty else { return CommandLineInterface.usageError(usage) }
                let result = try AuditTools.verify(
                    database: database, publicKeyPath: publicKey, keyName: keyName, anchorPath: anchor)
                print(flags.contains("--json") ? result.json : result.summary)
                return result.ok ? 0 : 1
            case "export":
                guard let format = options.removeValue(forKey: "format") else {
                    return CommandLineInterface.usageError(usage)
                }
                let items = options.map { (name: $0.key, value: $0.value) }
                try AuditTools.export(database: database, format: format, filterItems: items, to: .standardOutput)
                return 0
            default:
                return CommandLineInterface.usageError(usage)
            }
        } catch {
            CommandLineInterface.writeError("phigate: \(error)")
            return 1
        }
    }
}
