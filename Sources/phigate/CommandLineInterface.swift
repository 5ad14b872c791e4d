import App
import Foundation
import POSIX
import Support

/// Parses arguments and dispatches to the commands. Output meant for people goes to stdout,
/// diagnostics to stderr; neither ever carries a secret that was not asked for.
enum CommandLineInterface {
    static let version = GatewayVersion.current

    static let usage = """
        phigate \(version) — an access gateway for protected health information

        Usage:
          phigate serve [--config FILE]     run the gateway
          phigate import FILE|DIR...        load FHIR R4 Bundles (Synthea output)
          phigate user add NAME --role ROLE [--practitioner ID] [--password-stdin]
          phigate user list | disable NAME  manage accounts
          phigate care assign NAME PATIENT  record an explicit care relationship
          phigate audit verify [--db FILE] [--public-key FILE] [--key-name NAME] [--anchor FILE]
                               [--checkpoint-every N] [--json]
          phigate audit export --format ndjson|fhir|cef [filters]
          phigate --version                 print the version
          phigate --help                    print this help
          phigate <command> --help          help for one command

        Configuration comes from the JSON file given with --config (or PHIGATE_CONFIG) and from
        PHIGATE_* environment variables, which win over the file. See Config/README.md.
        """

    static let serveUsage = """
        Usage: phigate serve [--config FILE] [--rebuild-audit-index]

        Runs the gateway on the configured address (default 127.0.0.1:8080) until SIGTERM,
        SIGINT or SIGHUP, then stops accepting, lets in-flight requests finish within
        http.shutdown_grace_seconds (a second signal cuts that short), closes the audit log with
        a signed checkpoint and exits 0. Logs are JSON lines on stderr.

        --rebuild-audit-index rebuilds the audit log's query index from the entries before
        serving, after `phigate audit verify` reported index_mismatch; an audit.index_rebuilt
        entry records it. An index whose blocks are out of place is rebuilt at start without it.
        """

    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        guard let command = arguments.first else {
            writeError(usage)
            return 64
        }
        switch command {
        case "--version", "-V", "version":
            print("phigate \(version)")
            return 0
        case "--help", "-h", "help":
            print(usage)
            return 0
        case "serve":
            return serve(Array(arguments.dropFirst()), environment: environment)
        case "import":
            return RecordCommands.runImport(Array(arguments.dropFirst()), environment: environment)
        case "user":
            return RecordCommands.runUser(Array(arguments.dropFirst()), environment: environment)
        case "care":
            return RecordCommands.runCare(Array(arguments.dropFirst()), environment: environment)
        case "audit":
            return AuditCommands.run(Array(arguments.dropFirst()), environment: environment)
        default:
            writeError("phigate: unknown command '\(command.prefix(40))'\n\n" + usage)
            return 64
        }
    }

    /// Splits `--config FILE` (or `--config=FILE`) from the remaining arguments; the option
    /// wins over PHIGATE_CONFIG, and giving it twice is refused rather than resolved.
    static func configPath(_ arguments: inout [String], environment: [String: String]) -> Result<String?, UsageError> {
        var path: String?
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let given: String
            if argument == "--config" {
                guard index < arguments.count, !arguments[index].isEmpty, !arguments[index].hasPrefix("--") else {
                    return .failure(UsageError("--config needs a file"))
                }
                given = arguments[index]
                index += 1
            } else if argument.hasPrefix("--config=") {
                given = String(argument.dropFirst("--config=".count))
                guard !given.isEmpty else { return .failure(UsageError("--config needs a file")) }
            } else {
                rest.append(argument)
                continue
            }
            guard path == nil else { return .failure(UsageError("--config is given more than once")) }
            path = given
        }
        arguments = rest
        return .success(path ?? environment["PHIGATE_CONFIG"])
    }

    /// The configuration the arguments and environment select, with `--config` removed from
    /// `arguments`; or nil and the status to exit with (64 for a malformed `--config`, 78 for
    /// a configuration that does not load) after the reason was written to stderr.
    static func loadConfiguration(
        _ arguments: inout [String], environment: [String: String]
    ) -> (configuration: Configuration?, status: Int32) {
        switch configPath(&arguments, environment: environment) {
        case .failure(let error):
            writeError("phigate: \(error.message)")
            return (nil, 64)
        case .success(let path):
            for name in ConfigurationLoader.unknownEnvironmentNames(in: environment) {
                // Names only: a value could be a secret.
                writeError("phigate: warning: \(name.prefix(80)) names no setting and is ignored")
            }
            do {
                return (try ConfigurationLoader.load(file: path, environment: environment), 0)
            } catch {
                writeError("phigate: \(error)")
                return (nil, 78)
            }
        }
    }

    static func serve(_ arguments: [String], environment: [String: String]) -> Int32 {
        // Before any thread exists, so every thread inherits the mask and no early signal is
        // delivered to a thread that would take the default action.
        ProcessSignals.block(Gateway.stopSignals)
        ProcessSignals.ignoreSIGPIPE()
        var arguments = arguments
        if arguments.contains("--help") || arguments.contains("-h") {
            print(serveUsage)
            return 0
        }
        let loaded = loadConfiguration(&arguments, environment: environment)
        guard let configuration = loaded.configuration else { return loaded.status }
        let rebuildAuditIndex = arguments.first == "--rebuild-audit-index"
        if rebuildAuditIndex {
            arguments.removeFirst()
        }
        guard arguments.isEmpty else {
            writeError("phigate: serve takes no argument '\(arguments[0].prefix(40))'\n\n" + serveUsage)
            return 64
        }
        let logger = Logger(label: "phigate", minimumLevel: configuration.logLevel)
        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: configuration, logger: logger, rebuildAuditIndex: rebuildAuditIndex)
        } catch let error as ConfigurationError {
            writeError("phigate: \(error)")
            return 78
        } catch {
            logger.critical("server.start_failed", ["error": .string("\(error)")])
            return 1
        }
        gateway.run()
        return 0
    }

    static func printHelp(_ text: String) -> Int32 {
        print(text)
        return 0
    }

    static func usageError(_ text: String) -> Int32 {
        writeError(text)
        return 64
    }

    /// Reports a command's failure: an invalid configuration (a data directory open to others,
    /// a missing key file) exits 78 like the server's, anything else 1.
    static func failure(_ error: any Error) -> Int32 {
        writeError("phigate: \(error)")
        return error is ConfigurationError ? 78 : 1
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
