import Synchronization

/// Request counters, a latency histogram and the open-connection gauge, in Prometheus form.
///
/// Labels are bounded by construction: methods outside a fixed set count as "other", routes are
/// patterns (never raw paths, which could carry identifiers), statuses are three digits.
public final class ServerMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    public static let bucketBounds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    private struct CounterKey: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    private struct Histogram {
        var buckets = [UInt64](repeating: 0, count: ServerMetrics.bucketBounds.count)
        var count: UInt64 = 0
        var sum: Double = 0

        mutating func record(_ seconds: Double, bucket: Int?) {
            if let bucket { buckets[bucket] += 1 }
            count += 1
            sum += seconds
        }
    }

    private struct Storage {
        var requests: [CounterKey: UInt64] = [:]
        var latency: [String: Histogram] = [:]
    }

    private let storage = Mutex(Storage())
    private let connections = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    public init() {}

    /// Counts one finished request.
    public func record(method: String, route: String, status: Int, seconds: Double) {
        let method = Self.knownMethods.contains(method) ? method : "other"
        storage.withLock { s in
            s.requests[CounterKey(method: method, route: route, status: status), default: 0] += 1
            let bucket = Self.bucketBounds.firstIndex(where: { seconds <= $0 })
            // Mutated in place through the default subscript: no copy of the bucket array.
            s.latency[route, default: Histogram()].record(seconds, bucket: bucket)
        }
    }

    func connectionOpened() {
        connections.add(1, ordering: .relaxed)
        accepted.add(1, ordering: .relaxed)
    }

    func connectionClosed() { connections.subtract(1, ordering: .relaxed) }

    func connectionRefused() { refused.add(1, ordering: .relaxed) }

    public var openConnections: Int { connections.load(ordering: .relaxed) }

    /// The Prometheus text exposition (format 0.0.4) of everything above.
    public func render() -> String {
        let snapshot = storage.withLock { $0 }
        var out = "# HELP phigate_http_requests_total HTTP requests answered, by method, route pattern and status.\n"
        out += "# TYPE phigate_http_requests_total counter\n"
        let keys = snapshot.requests.keys.sorted {
            ($0.route, $0.method, $0.status) < ($1.route, $1.method, $1.status)
        }
        for key in keys {
            out += "phigate_http_requests_total{method=\"\(key.method)\",route=\"\(Self.escape(key.route))\","
            out += "status=\"\(key.status)\"} \(snapshot.requests[key]!)\n"
        }
        out += "# HELP phigate_http_request_duration_seconds Time from a parsed request to its queued response.\n"
        out += "# TYPE phigate_http_request_duration_seconds histogram\n"
        for route in snapshot.latency.keys.sorted() {
            let h = snapshot.latency[route]!
            let label = Self.escape(route)
            var cumulative: UInt64 = 0
            for (index, bound) in Self.bucketBounds.enumerated() {
                cumulative += h.buckets[index]
                out +=
                    "phigate_http_request_duration_seconds_bucket{route=\"\(label)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "phigate_http_request_duration_seconds_bucket{route=\"\(label)\",le=\"+Inf\"} \(h.count)\n"
            out += "phigate_http_request_duration_seconds_sum{route=\"\(label)\"} \(h.sum)\n"
            out += "phigate_http_request_duration_seconds_count{route=\"\(label)\"} \(h.count)\n"
        }
        out += "# HELP phigate_http_open_connections Client connections currently open.\n"
        out += "# TYPE phigate_http_open_connections gauge\n"
        out += "phigate_http_open_connections \(openConnections)\n"
        out += "# HELP phigate_http_connections_accepted_total Client connections accepted.\n"
        out += "# TYPE phigate_http_connections_accepted_total counter\n"
        out += "phigate_http_connections_accepted_total \(accepted.load(ordering: .relaxed))\n"
        out += "# HELP phigate_http_connections_refused_total Connections refused at the connection cap.\n"
        out += "# TYPE phigate_http_connections_refused_total counter\n"
        out += "phigate_http_connections_refused_total \(refused.load(ordering: .relaxed))\n"
        return out
    }

    private static func escape(_ label: String) -> String {
        var out = ""
        for c in label {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The connection cap, shared by every loop: a counter of free places.
final class ConnectionBudget: Sendable {
    private let free: Atomic<Int>

    init(_ capacity: Int) { free = Atomic(capacity) }

    /// Takes a place; false (and nothing taken) when none is free.
    func take() -> Bool {
        if free.subtract(1, ordering: .relaxed).newValue >= 0 { return true }
        free.add(1, ordering: .relaxed)
        return false
    }

    func give() { free.add(1, ordering: .relaxed) }
}
