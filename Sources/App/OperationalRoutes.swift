import Server
import Support

/// Liveness, readiness and metrics: unauthenticated, free of PHI, and cheap.
enum OperationalRoutes {
    static func routes(readiness: Readiness, metrics: @escaping @Sendable () -> String) -> [Route] {
        let healthy = Response.json(200, "{\"status\":\"ok\"}")
        return [
            Route("GET", "/healthz", execution: .onLoop) { _ in healthy },
            Route("GET", "/readyz", execution: .onLoop) { _ in
                let failing = readiness.failingChecks
                if failing.isEmpty { return Response.json(200, "{\"status\":\"ready\"}") }
                let names = failing.map { JSONText.quoted($0) }.joined(separator: ",")
                return Response.json(503, "{\"status\":\"not_ready\",\"failing\":[\(names)]}")
            },
            Route("GET", "/metrics", execution: .onWorker) { _ in
                Response.text(200, metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            },
        ]
    }
}
