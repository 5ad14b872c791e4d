import Foundation
import POSIX
import Store

/// Reads the JSON configuration file, applies `PHIGATE_*` environment overrides and validates
/// every key against `Configuration.keys`.
///
/// Order of precedence: environment over file over default. Every command reads configuration
/// through here, so `--config` and the environment select the same data directory everywhere.
public enum ConfigurationLoader {
    /// Loads `file` (optional) with overrides from `environment`.
    public static func load(file: String?, environment: [String: String]) throws(ConfigurationError) -> Configuration {
        var values: [String: JSONValue] = [:]
        for key in Configuration.keys { values[key.name] = key.defaultValue }
        if let file {
            let bytes: [UInt8]
            do {
                bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw ConfigurationError(key: "--config", message: "cannot read the configuration file")
            }
            // A key given twice is refused: phigate would read one value and a reviewer's tool
            // (jq, Python) the other.
            if let problem = StrictJSON.problem(in: bytes) {
                throw ConfigurationError(
                    key: "--config", message: "the configuration file is not valid JSON (\(problem))")
            }
            let document: JSONValue
            do {
                document = try JSONValue.parse(bytes)
            } catch is JSONValue.DuplicateMember {
                throw ConfigurationError(
                    key: "--config", message: "the configuration file names a setting twice in one object")
            } catch {
                throw ConfigurationError(key: "--config", message: "the configuration file is not valid JSON")
            }
            guard case .object(let root) = document else {
                throw ConfigurationError(key: "--config", message: "the configuration file must hold a JSON object")
            }
            try flatten(root, prefix: "", into: &values)
        }
        for key in Configuration.keys {
            guard let text = environment[key.environmentName] else { continue }
            values[key.name] = try parseEnvironment(text, for: key)
        }
        for key in Configuration.keys {
            try validate(values[key.name]!, for: key)
        }
        return try Configuration(values: values)
    }

    /// The `PHIGATE_*` variables in `environment` that name no setting, sorted: most likely a
    /// misspelt override, which would otherwise leave its default silently in force.
    /// `PHIGATE_CONFIG` (the configuration file) is a name the command line reads itself.
    public static func unknownEnvironmentNames(in environment: [String: String]) -> [String] {
        let known = Set(Configuration.keys.map(\.environmentName)).union(["PHIGATE_CONFIG"])
        return environment.keys.filter { $0.hasPrefix("PHIGATE_") && !known.contains($0) }.sorted()
    }

    /// Turns nested objects into dotted keys, refusing keys that are not documented.
    private static func flatten(
        _ object: [String: JSONValue], prefix: String, into values: inout [String: JSONValue]
    ) throws(ConfigurationError) {
        for (name, value) in object {
            let dotted = prefix.isEmpty ? name : prefix + "." + name
            if Configuration.keys.contains(where: { $0.name == dotted }) {
                values[dotted] = value
            } else if case .object(let nested) = value,
                Configuration.keys.contains(where: { $0.name.hasPrefix(dotted + ".") })
            {
                try flatten(nested, prefix: dotted, into: &values)
            } else {
                throw ConfigurationError(key: dotted, message: "is not a configuration key")
            }
        }
    }

    /// Environment values are text; they take the key's type, strictly.
    private static func parseEnvironment(_ text: String, for key: ConfigurationKey) throws(ConfigurationError)
        -> JSONValue
    {
        switch key.kind {
        case .integer:
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) || isNegativeInteger(text),
                let value = Int64(text)
            else {
                throw ConfigurationError(key: key.name, message: "must be an integer (from \(key.environmentName))")
            }
            return .int(value)
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes": return .bool(true)
            case "false", "0", "no": return .bool(false)
            default:
                throw ConfigurationError(key: key.name, message: "must be true or false (from \(key.environmentName))")
            }
        case .address, .path, .choice, .keyName, .optionalPath:
            return .string(text)
        case .webhooks:
            do {
                return try JSONValue.parse(Array(text.utf8))
            } catch is JSONValue.DuplicateMember {
                throw ConfigurationError(
                    key: key.name, message: "names a member twice in one object (from \(key.environmentName))")
            } catch {
                throw ConfigurationError(key: key.name, message: "must be a JSON list (from \(key.environmentName))")
            }
        }
    }

    private static func isNegativeInteger(_ text: String) -> Bool {
        text.hasPrefix("-") && text.utf8.dropFirst().allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && text.count > 1
    }

    private static func validate(_ value: JSONValue, for key: ConfigurationKey) throws(ConfigurationError) {
        switch key.kind {
        case .integer(let range):
            guard case .int(let number) = value else {
                throw ConfigurationError(key: key.name, message: "must be an integer, not \(value.kindDescription)")
            }
            guard range.contains(number) else {
                throw ConfigurationError(
                    key: key.name, message: "must be between \(range.lowerBound) and \(range.upperBound)")
            }
        case .bool:
            guard case .bool = value else {
                throw ConfigurationError(key: key.name, message: "must be true or false, not \(value.kindDescription)")
            }
        case .address:
            guard case .string(let text) = value else {
                throw ConfigurationError(key: key.name, message: "must be a string, not \(value.kindDescription)")
            }
            guard SocketAddress(parsing: text) != nil else {
                throw ConfigurationError(
                    key: key.name, message: "must be a numeric address and port, such as 127.0.0.1:8080 or [::1]:8080")
            }
        case .path:
            guard case .string(let text) = value, !text.isEmpty, !text.contains("\0") else {
                throw ConfigurationError(key: key.name, message: "must be a non-empty path")
            }
        case .optionalPath:
            guard case .string(let text) = value, !text.contains("\0") else {
                throw ConfigurationError(key: key.name, message: "must be a path, or empty for none")
            }
        case .webhooks:
            guard case .array = value else {
                throw ConfigurationError(key: key.name, message: "must be a list of {url, secret, events}")
            }
        case .keyName:
            guard case .string(let text) = value, !text.isEmpty, text.utf8.count <= 128,
                text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2B })
            else {
                throw ConfigurationError(key: key.name, message: "must be printable ASCII without spaces or '+'")
            }
        case .choice(let options):
            guard case .string(let text) = value, options.contains(text) else {
                throw ConfigurationError(key: key.name, message: "must be one of \(options.joined(separator: ", "))")
            }
        }
    }
}
