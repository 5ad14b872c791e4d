#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// Severity of a log line, ordered from the most verbose to the most severe.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    public var name: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }

    public init?(name: String) {
        guard let level = LogLevel.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A value attached to a log line under a dotted key (`req.id`, `http.status`).
public enum LogValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case int(Int)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
}

/// Where finished log lines go. The default writes each line to stderr with one `write(2)`.
public protocol LogSink: Sendable {
    func write(line: String)
}

/// Writes each line to file descriptor 2 in a single call, so concurrent lines never interleave.
public struct StandardErrorSink: LogSink {
    public init() {}

    public func write(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }  // stderr is gone; nothing sensible is left to report to
                offset += n
            }
        }
    }
}

/// Structured logging as JSON lines: a constant message plus dotted keys.
///
/// Edges (Server, App, the command line) log; engines return values and errors. Callers must
/// never pass patient data, tokens, passwords, TOTP codes or SQL arguments as metadata: ids only.
public struct Logger: Sendable {
    public let label: String
    public let minimumLevel: LogLevel
    private let sink: any LogSink
    private let clock: WallClock

    public init(
        label: String, minimumLevel: LogLevel = .info, sink: any LogSink = StandardErrorSink(),
        clock: WallClock = WallClock()
    ) {
        self.label = label
        self.minimumLevel = minimumLevel
        self.sink = sink
        self.clock = clock
    }

    /// A logger with the same sink and level under another label.
    public func child(_ label: String) -> Logger {
        Logger(label: label, minimumLevel: minimumLevel, sink: sink, clock: clock)
    }

    public func isEnabled(_ level: LogLevel) -> Bool { level >= minimumLevel }

    public func log(_ level: LogLevel, _ message: String, _ metadata: KeyValuePairs<String, LogValue> = [:]) {
        guard level >= minimumLevel else { return }
        var line = "{\"ts\":"
        JSONText.appendString(clock.iso8601Now(), to: &line)
        line += ",\"level\":"
        JSONText.appendString(level.name, to: &line)
        line += ",\"logger\":"
        JSONText.appendString(label, to: &line)
        line += ",\"msg\":"
        JSONText.appendString(message, to: &line)
        for (key, value) in metadata {
            line += ","
            JSONText.appendString(key, to: &line)
            line += ":"
            switch value {
            case .string(let s): JSONText.appendString(s, to: &line)
            case .int(let i): line += String(i)
            case .bool(let b): line += b ? "true" : "false"
            }
        }
        line += "}"
        sink.write(line: line)
    }

    public func debug(_ message: String, _ metadata: KeyValuePairs<String, LogValue> = [:]) {
        log(.debug, message, metadata)
    }

    public func info(_ message: String, _ metadata: KeyValuePairs<String, LogValue> = [:]) {
        log(.info, message, metadata)
    }

    public func notice(_ message: String, _ metadata: KeyValuePairs<String, LogValue> = [:]) {
        log(.notice, message, metadata)
    }

    public func warning(_ message: String, _ metadata: KeyValuePairs<String, LogValue> = [:]) {
        log(.warning, message, metadata)
    }

    public func error(_ message: String, _ metadata: KeyValuePairs<String, LogValue> = [:]) {
        log(.error, message, metadata)
    }

    public func critical(_ message: String, _ metadata: KeyValuePairs<String, LogValue> = [:]) {
        log(.critical, message, metadata)
    }
}

/// Keeps log lines in memory; for tests that assert what was (and was not) logged.
public final class MemoryLogSink: LogSink {
    private let lines = Mutex<[String]>([])

    public init() {}

    public func write(line: String) {
        lines.withLock { $0.append(line) }
    }

    public var recorded: [String] { lines.withLock { $0 } }
}
