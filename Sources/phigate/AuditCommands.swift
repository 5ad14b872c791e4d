import App
import Foundation

/// `phigate audit verify` and `phigate audit export`.
enum AuditCommands {
    static let usage = """
        Usage:
          phigate audit verify [--db FILE] [--public-key FILE] [--key-name NAME] [--anchor FILE]
                               [--checkpoint-every N] [--json]
          phigate audit export --format ndjson|fhir|cef [--db FILE] [--actor U] [--patient ID] [--action A]
                               [--event E] [--outcome allowed|denied|error] [--since T] [--until T] [--grant G]
                               [--limit N] [--cursor SEQ]

        verify re-derives every hash of the audit log from the stored bytes, checks each entry's
        canonical form, sequence continuity and every signed checkpoint, and names the first bad
        entry. It also fails when checkpoints are further apart, or the newest further behind the
        last entry, than the writer ever leaves them (--checkpoint-every, the
        audit.checkpoint_every it wrote with), and when the query index differs from the entries
        (index_mismatch). It works offline on a copy. --anchor takes a checkpoint (signed note)
        kept outside the machine, which also catches a tail deleted together with its
        checkpoints; CRLF line ends, blank lines around it and a missing final newline in that
        file are accepted. Exit status 0 only when everything verifies. Defaults: the data
        directory's audit.sqlite and audit-signing.pub, and the configured audit.key_name and
        audit.checkpoint_every.

        export writes the log to standard output: canonical entries (ndjson), FHIR R4 AuditEvent
        NDJSON (fhir), or CEF lines for a SIEM (cef). Times are RFC 3339 or Unix milliseconds;
        --since is inclusive and --until exclusive. --limit stops after N entries; --cursor
        resumes after the entry numbered SEQ.

        Each option is given once, as --name VALUE or --name=VALUE. A usage error exits 64.
        """

    /// The options each verb takes with a value, and the flags it takes without one.
    static let valueOptions: [String: Set<String>] = [
        "verify": ["db", "public-key", "key-name", "anchor", "checkpoint-every"],
        "export": Set(["db", "format"] + AuditTools.exportFilterNames),
    ]
    static let flagOptions: [String: Set<String>] = ["verify": ["json"], "export": []]

    /// The parsed options of one verb: values by name (without the dashes) and flags given.
    struct Options {
        var values: [String: String] = [:]
        var flags: Set<String> = []
    }

    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        var arguments = arguments
        if arguments.isEmpty || arguments.contains("--help") { return CommandLineInterface.printHelp(usage) }
        let loaded = CommandLineInterface.loadConfiguration(&arguments, environment: environment)
        guard let configuration = loaded.configuration else { return loaded.status }
        guard let verb = arguments.first, valueOptions[verb] != nil else {
            let named = arguments.first.map { " '\($0.prefix(40))'" } ?? ""
            return usageError("audit: unknown subcommand\(named); it is verify or export")
        }
        let options: Options
        switch parse(Array(arguments.dropFirst()), verb: verb) {
        case .success(let parsed): options = parsed
        case .failure(let error): return usageError("audit \(verb): \(error.message)")
        }
        var values = options.values
        let database = values.removeValue(forKey: "db") ?? configuration.auditDatabasePath
        do throws(AuditToolError) {
            switch verb {
            case "verify":
                let publicKey = values["public-key"] ?? configuration.dataDirectory + "/audit-signing.pub"
                let keyName = values["key-name"] ?? configuration.audit.keyName
                var checkpointEvery = configuration.audit.checkpointEvery
                if let text = values["checkpoint-every"] {
                    guard let number = Int64(text), number >= 1 else {
                        return usageError("audit verify: --checkpoint-every is a positive number of entries")
                    }
                    checkpointEvery = number
                }
                let result = try AuditTools.verify(
                    database: database, publicKeyPath: publicKey, keyName: keyName, anchorPath: values["anchor"],
                    checkpointEvery: checkpointEvery)
                print(options.flags.contains("json") ? result.json : result.summary)
                return result.ok ? 0 : 1
            default:
                guard let format = values.removeValue(forKey: "format") else {
                    return usageError("audit export: --format is required (ndjson, fhir or cef)")
                }
                let items = values.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
                try AuditTools.export(database: database, format: format, filterItems: items, to: .standardOutput)
                return 0
            }
        } catch {
            if error.isUsage { return usageError("audit \(verb): \(error.message)") }
            CommandLineInterface.writeError("phigate: audit \(verb): \(error.message)")
            return 1
        }
    }

    /// Splits `arguments` into options of `verb`: each known, each once, each with its value.
    static func parse(_ arguments: [String], verb: String) -> Result<Options, UsageError> {
        let takesValue = valueOptions[verb] ?? []
        let isFlag = flagOptions[verb] ?? []
        var options = Options()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                return .failure(UsageError("unexpected argument '\(argument.prefix(40))'"))
            }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            var value = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            if isFlag.contains(name) {
                guard value == nil else { return .failure(UsageError("--\(name) takes no value")) }
                guard options.flags.insert(name).inserted else {
                    return .failure(UsageError("--\(name) is given more than once"))
                }
                continue
            }
            guard takesValue.contains(name) else {
                return .failure(UsageError("unknown option --\(name.prefix(40))"))
            }
            if value == nil, index < arguments.count, !arguments[index].hasPrefix("--") {
                value = arguments[index]
                index += 1
            }
            guard let value, !value.isEmpty else { return .failure(UsageError("--\(name) needs a value")) }
            guard options.values.updateValue(value, forKey: name) == nil else {
                return .failure(UsageError("--\(name) is given more than once"))
            }
        }
        return .success(options)
    }

    /// Writes a one-line usage error with a pointer to the help and returns 64.
    static func usageError(_ message: String) -> Int32 {
        CommandLineInterface.writeError("phigate: \(message) (see phigate audit --help)")
        return 64
    }
}
