import Auth
import BreakGlass
import Foundation
import HTTP
import POSIX
import Server
import Support
import TLS
import Webhooks

/// phigate's settings after parsing and validation. Every field has a safe default, so an empty
/// file (or none) serves on 127.0.0.1:8080 with data in ./data.
public struct Configuration: Sendable {
    public var listen: SocketAddress
    public var dataDirectory: String
    public var demo: Bool
    public var logLevel: LogLevel
    public var server: ServerConfiguration
    /// HTTPS settings; nil serves plain HTTP (loopback only unless declared otherwise).
    public var tls: TLSServerConfiguration?
    public var storeConnections: Int
    public var authPolicy: AuthPolicy

    public var audit: AuditSettings
    public var breakGlassPolicy: BreakGlassPolicy
    public var webhooks: [WebhookSubscriberConfig]
    public var deniedBurstThreshold: Int
    public var deniedBurstWindowSeconds: Int64
    public var deliveryPolicy: DeliveryPolicy
    /// The CA bundle for webhook receivers; nil uses the system trust store.
    public var alertsCAFile: String?

    public struct AuditSettings: Sendable {
        public var keyName: String
        public var checkpointEvery: Int64
        public var checkpointIntervalSeconds: Int64
        public var commitTimeoutMilliseconds: Int64
        public var maxGroupSize: Int
        public var queueCapacity: Int
    }

    /// The audit log, a database of its own.
    public var auditDatabasePath: String { dataDirectory + "/audit.sqlite" }

    /// The records and identities database inside the data directory.
    public var recordsDatabasePath: String { dataDirectory + "/phigate.sqlite" }

    /// The documented keys, their types, bounds and defaults. A key not listed here is refused.
    public static let keys: [ConfigurationKey] = [
        .init(
            "listen", .address, default: .string("127.0.0.1:8080"),
            help: "Address and port to serve on; port 0 picks a free port."),
        .init(
            "data_dir", .path, default: .string("./data"),
            help: "Directory for the record, identity and audit databases and the signing key."),
        .init(
            "demo", .bool, default: .bool(false),
            help: "On an empty data directory, generate demo patients and users and print their credentials once."),
        .init(
            "log_level", .choice(LogLevel.allCases.map(\.name)), default: .string("info"),
            help: "Minimum level of the JSON log lines written to stderr."),
        .init(
            "tls.cert", .optionalPath, default: .string(""),
            help: "PEM certificate chain (leaf first): with tls.key, phigate serves HTTPS only."),
        .init(
            "tls.key", .optionalPath, default: .string(""),
            help: "PEM private key for tls.cert; refused if group or others can read it."),
        .init(
            "tls.client_ca", .optionalPath, default: .string(""),
            help: "PEM CA bundle for client certificates (mutual TLS for bound ehr-system accounts)."),
        .init(
            "http.header_timeout_seconds", .integer(1...3600), default: .int(10),
            help: "Time allowed for a whole request head (408 when it runs out)."),
        .init(
            "http.body_timeout_seconds", .integer(1...3600), default: .int(30),
            help: "Time allowed for a whole request body (408 when it runs out)."),
        .init(
            "http.idle_timeout_seconds", .integer(1...3600), default: .int(30),
            help: "How long a keep-alive connection may wait for its next request."),
        .init(
            "http.max_request_line_bytes", .integer(256...65_536), default: .int(8192),
            help: "Longest request line (414 beyond)."),
        .init(
            "http.max_header_bytes", .integer(1024...1_048_576), default: .int(16_384),
            help: "Largest header section, and trailer section (431 beyond)."),
        .init(
            "http.max_header_count", .integer(1...1000), default: .int(100),
            help: "Most header fields in a request (431 beyond)."),
        .init(
            "http.max_body_bytes", .integer(0...1_073_741_824), default: .int(16 << 20),
            help: "Largest request body (413 beyond)."),
        .init(
            "http.max_connections", .integer(1...1_000_000), default: .int(4096),
            help: "Open client connections; further ones get 503 and are closed."),
        .init(
            "http.max_connections_per_client", .integer(1...1_000_000), default: .int(1024),
            help: "Open connections from one client address; further ones get 503 and are closed."),
        .init(
            "http.allow_plaintext_non_loopback", .bool, default: .bool(false),
            help: "Allow plain HTTP on an address other than loopback (only behind a TLS terminator)."),
        .init(
            "http.event_loops", .integer(1...64), default: .int(1),
            help: "Event-loop threads; one is best on two cores with a load generator beside it."),
        .init(
            "http.shutdown_grace_seconds", .integer(0...600), default: .int(10),
            help: "Time in-flight requests get to finish after SIGTERM or SIGINT."),
        .init(
            "store.connections", .integer(1...64), default: .int(4),
            help: "SQLite connections to the records database shared by the worker threads."),
        .init(
            "sessions.idle_timeout_seconds", .integer(60...86_400), default: .int(900),
            help: "A session unused for this long ends."),
        .init(
            "sessions.absolute_timeout_seconds", .integer(300...604_800), default: .int(28_800),
            help: "A session ends this long after login, however active."),
        .init(
            "auth.lockout_threshold", .integer(1...100), default: .int(5),
            help: "Failed logins for one username within auth.lockout_window_seconds that lock it."),
        .init(
            "auth.lockout_window_seconds", .integer(1...86_400), default: .int(900),
            help: "The window in which failed logins count towards a lockout."),
        .init(
            "auth.lockout_seconds", .integer(1...86_400), default: .int(900),
            help: "How long a locked username stays locked."),
        .init(
            "break_glass.default_minutes", .integer(1...1440), default: .int(60),
            help: "How long a break-glass grant lasts when the request names no duration."),
        .init(
            "break_glass.maximum_minutes", .integer(1...1440), default: .int(240),
            help: "The longest break-glass grant a request may ask for."),
        .init(
            "break_glass.max_active_per_user", .integer(1...50), default: .int(3),
            help: "Break-glass grants one user may hold at once."),
        .init(
            "break_glass.review_deadline_hours", .integer(1...8760), default: .int(72),
            help: "Hours after activation before an unreviewed grant raises review.overdue."),
        .init(
            "break_glass.justification_minimum", .integer(1...2000), default: .int(20),
            help: "Fewest characters a break-glass justification may have."),
        .init(
            "alerts.denied_burst_threshold", .integer(2...10_000), default: .int(10),
            help: "Denials of one user within the window that raise access.denied_burst."),
        .init(
            "alerts.denied_burst_window_seconds", .integer(1...86_400), default: .int(300),
            help: "The window for access.denied_burst."),
        .init(
            "alerts.ca_file", .optionalPath, default: .string(""),
            help: "PEM CA bundle that webhook receivers' certificates must chain to (system trust store if empty)."),
        .init(
            "alerts.retry_base_milliseconds", .integer(10...600_000), default: .int(1000),
            help: "First retry delay of a failed alert delivery; doubles per attempt, with full jitter."),
        .init(
            "alerts.retry_cap_seconds", .integer(1...86_400), default: .int(600),
            help: "Longest delay between delivery attempts."),
        .init(
            "alerts.max_attempts", .integer(1...1000), default: .int(15),
            help: "Attempts before an alert becomes a dead letter."),
        .init(
            "alerts.max_age_hours", .integer(1...720), default: .int(24),
            help: "Age after which an undelivered alert becomes a dead letter."),
        .init(
            "webhooks", .webhooks, default: .array([]),
            help: "Alert subscribers: a list of {url, secret, events}."),
        .init(
            "audit.key_name", .keyName, default: .string("phigate.local/audit"),
            help: "Name of the audit signing key and origin line of its checkpoints."),
        .init(
            "audit.checkpoint_every", .integer(1...1_000_000), default: .int(1000),
            help: "Sign a checkpoint every this many entries."),
        .init(
            "audit.checkpoint_interval_seconds", .integer(1...86_400), default: .int(60),
            help: "Sign a checkpoint at least this often while entries arrive."),
        .init(
            "audit.commit_timeout_ms", .integer(10...60_000), default: .int(5000),
            help: "How long a request waits for its audit entry to be durable before failing with 503."),
        .init(
            "audit.max_group_size", .integer(1...65_536), default: .int(1024),
            help: "Most entries per audit commit (one fsync); 1 commits each entry alone."),
        .init(
            "audit.queue_capacity", .integer(1...1_000_000), default: .int(16_384),
            help: "Entries waiting for the audit writer; beyond it requests fail with 503."),
    ]

    /// Builds the typed configuration from validated values keyed by dotted name.
    init(values: [String: JSONValue]) throws(ConfigurationError) {
        func int(_ key: String) -> Int { Int(values[key]!.intValue!) }
        guard let address = SocketAddress(parsing: values["listen"]!.stringValue!) else {
            throw ConfigurationError(key: "listen", message: "must be a numeric address and port")
        }
        listen = address
        let certificate = values["tls.cert"]!.stringValue!
        let key = values["tls.key"]!.stringValue!
        let clientCA = values["tls.client_ca"]!.stringValue!
        guard certificate.isEmpty == key.isEmpty else {
            throw ConfigurationError(
                key: certificate.isEmpty ? "tls.cert" : "tls.key", message: "tls.cert and tls.key go together")
        }
        guard clientCA.isEmpty || !certificate.isEmpty else {
            throw ConfigurationError(key: "tls.client_ca", message: "needs tls.cert and tls.key")
        }
        tls =
            certificate.isEmpty
            ? nil
            : TLSServerConfiguration(
                certificateChainPath: certificate, privateKeyPath: key, clientCAPath: clientCA.isEmpty ? nil : clientCA)
        let loopback = address.family == .ipv4 ? address.host.hasPrefix("127.") : address.host == "::1"
        guard loopback || tls != nil || values["http.allow_plaintext_non_loopback"]!.boolValue! else {
            throw ConfigurationError(
                key: "listen",
                message: "is not a loopback address; PHI must not cross a network in clear text. Serve on "
                    + "loopback behind a TLS terminator, or set http.allow_plaintext_non_loopback if one is in front")
        }
        dataDirectory = values["data_dir"]!.stringValue!
        demo = values["demo"]!.boolValue!
        logLevel = LogLevel(name: values["log_level"]!.stringValue!)!
        let limits = HTTPLimits(
            maxRequestLineBytes: int("http.max_request_line_bytes"), maxHeaderBytes: int("http.max_header_bytes"),
            maxHeaderCount: int("http.max_header_count"), maxBodyBytes: int("http.max_body_bytes"))
        server = ServerConfiguration(
            address: address, limits: limits, headerTimeoutSeconds: int("http.header_timeout_seconds"),
            bodyTimeoutSeconds: int("http.body_timeout_seconds"), idleTimeoutSeconds: int("http.idle_timeout_seconds"),
            maxConnections: int("http.max_connections"),
            maxConnectionsPerClient: int("http.max_connections_per_client"), eventLoops: int("http.event_loops"),
            shutdownGraceSeconds: int("http.shutdown_grace_seconds"))
        storeConnections = int("store.connections")
        var auth = AuthPolicy()
        auth.idleTimeoutSeconds = Int64(int("sessions.idle_timeout_seconds"))
        auth.absoluteTimeoutSeconds = Int64(int("sessions.absolute_timeout_seconds"))
        auth.lockoutThreshold = int("auth.lockout_threshold")
        auth.lockoutWindowSeconds = Int64(int("auth.lockout_window_seconds"))
        auth.lockoutSeconds = Int64(int("auth.lockout_seconds"))
        guard auth.idleTimeoutSeconds <= auth.absoluteTimeoutSeconds else {
            throw ConfigurationError(
                key: "sessions.idle_timeout_seconds", message: "must not exceed sessions.absolute_timeout_seconds")
        }
        authPolicy = auth
        var breakGlass = BreakGlassPolicy()
        breakGlass.defaultMinutes = int("break_glass.default_minutes")
        breakGlass.maximumMinutes = int("break_glass.maximum_minutes")
        breakGlass.maxActivePerUser = int("break_glass.max_active_per_user")
        breakGlass.reviewDeadlineHours = int("break_glass.review_deadline_hours")
        breakGlass.justificationMinimum = int("break_glass.justification_minimum")
        guard breakGlass.defaultMinutes <= breakGlass.maximumMinutes else {
            throw ConfigurationError(
                key: "break_glass.default_minutes", message: "must not exceed break_glass.maximum_minutes")
        }
        breakGlassPolicy = breakGlass
        deniedBurstThreshold = int("alerts.denied_burst_threshold")
        deniedBurstWindowSeconds = Int64(int("alerts.denied_burst_window_seconds"))
        webhooks = try Self.webhookSubscribers(values["webhooks"]!)
        let alertsCA = values["alerts.ca_file"]!.stringValue!
        alertsCAFile = alertsCA.isEmpty ? nil : alertsCA
        deliveryPolicy = DeliveryPolicy(
            baseDelayMilliseconds: Int64(int("alerts.retry_base_milliseconds")),
            maximumDelayMilliseconds: Int64(int("alerts.retry_cap_seconds")) * 1000,
            maximumAttempts: int("alerts.max_attempts"),
            maximumAgeMilliseconds: Int64(int("alerts.max_age_hours")) * 3_600_000)
        guard deliveryPolicy.baseDelayMilliseconds <= deliveryPolicy.maximumDelayMilliseconds else {
            throw ConfigurationError(
                key: "alerts.retry_base_milliseconds", message: "must not exceed alerts.retry_cap_seconds")
        }
        audit = AuditSettings(
            keyName: values["audit.key_name"]!.stringValue!, checkpointEvery: Int64(int("audit.checkpoint_every")),
            checkpointIntervalSeconds: Int64(int("audit.checkpoint_interval_seconds")),
            commitTimeoutMilliseconds: Int64(int("audit.commit_timeout_ms")),
            maxGroupSize: int("audit.max_group_size"), queueCapacity: int("audit.queue_capacity"))
    }
}

extension Configuration {
    /// Each subscriber checked: an http(s) URL, a whsec_ secret, known event types.
    static func webhookSubscribers(_ value: JSONValue) throws(ConfigurationError) -> [WebhookSubscriberConfig] {
        guard case .array(let items) = value else {
            throw ConfigurationError(key: "webhooks", message: "must be a list of {url, secret, events}")
        }
        var subscribers: [WebhookSubscriberConfig] = []
        for (index, item) in items.enumerated() {
            let key = "webhooks[\(index)]"
            guard case .object(let fields) = item else {
                throw ConfigurationError(key: key, message: "must be an object {url, secret, events}")
            }
            for name in fields.keys where !["url", "secret", "events"].contains(name) {
                throw ConfigurationError(key: key + "." + name, message: "is not a webhook setting")
            }
            guard let url = fields["url"]?.stringValue else {
                throw ConfigurationError(key: key + ".url", message: "must be an http or https URL")
            }
            guard let secret = fields["secret"]?.stringValue else {
                throw ConfigurationError(key: key + ".secret", message: "must be a whsec_ secret")
            }
            var events: [String] = ["*"]
            if let listed = fields["events"] {
                guard case .array(let names) = listed, !names.isEmpty,
                    names.allSatisfy({ $0.stringValue != nil })
                else {
                    throw ConfigurationError(key: key + ".events", message: "must be a non-empty list of event types")
                }
                events = names.compactMap(\.stringValue)
            }
            do {
                subscribers.append(try WebhookSubscriberConfig(url: url, secret: secret, events: events))
            } catch {
                // The message names what is wrong, never the secret's value.
                let field = error.code == .invalidEventFilter ? key + ".events" : key
                throw ConfigurationError(key: field, message: error.message)
            }
        }
        return subscribers
    }
}

/// One documented configuration key.
public struct ConfigurationKey: Sendable {
    public enum Kind: Sendable {
        case integer(ClosedRange<Int64>)
        case bool
        case address
        case path
        /// A signed-note key name: printable ASCII without spaces or '+'.
        case keyName
        /// A list of webhook subscribers, checked when the configuration is built.
        case webhooks
        /// A file path, or empty for none.
        case optionalPath
        case choice([String])
    }

    public let name: String
    public let kind: Kind
    public let defaultValue: JSONValue
    public let help: String

    init(_ name: String, _ kind: Kind, default defaultValue: JSONValue, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// The environment variable that overrides this key: PHIGATE_ and the key in capitals, dots
    /// as underscores.
    public var environmentName: String {
        "PHIGATE_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

/// Why start-up stopped: the key at fault and what is wrong with it. Never echoes the value,
/// which might be a secret.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var message: String

    public var description: String { "invalid configuration: \(key): \(message)" }
}
