import HTTP
import Testing

@testable import Server

@Suite("Router")
struct RouterTests {
    static let router = Router(routes: [
        Route("GET", "/healthz") { _ in Response(status: 200) },
        Route("GET", "/fhir/metadata") { _ in Response(status: 200) },
        Route("GET", "/fhir/{type}/{id}") { _ in Response(status: 200) },
        Route("GET", "/fhir/Patient/{id}/$everything") { _ in Response(status: 200) },
        Route("POST", "/fhir") { _ in Response(status: 200) },
        Route("DELETE", "/break-glass/{id}") { _ in Response(status: 200) },
        Route("GET", "/break-glass") { _ in Response(status: 200) },
        Route("POST", "/break-glass") { _ in Response(status: 200) },
    ])

    enum Expected: Equatable {
        case found(String, [String: String])
        case notAllowed([String])
        case notFound
        case badPath
    }

    static let cases: [(String, String, Expected)] = [
        ("GET", "/healthz", .found("/healthz", [:])),
        ("HEAD", "/healthz", .found("/healthz", [:])),
        ("POST", "/healthz", .notAllowed(["GET", "HEAD"])),
        ("GET", "/healthz/", .notFound),
        ("GET", "/HEALTHZ", .notFound),
        ("GET", "/fhir/metadata", .found("/fhir/metadata", [:])),
        ("GET", "/fhir/Patient/123", .found("/fhir/{type}/{id}", ["type": "Patient", "id": "123"])),
        ("GET", "/fhir/Patient/a%2Fb", .found("/fhir/{type}/{id}", ["type": "Patient", "id": "a/b"])),
        ("GET", "/fhir/Patient/%zz", .badPath),
        ("GET", "/fhir/Patient//", .notFound),
        ("GET", "/fhir/Patient/123/$everything", .found("/fhir/Patient/{id}/$everything", ["id": "123"])),
        ("GET", "/fhir/Observation/1/$everything", .notFound),
        ("GET", "/fhir/Patient/123/extra/more", .notFound),
        ("GET", "/fhir", .notAllowed(["POST"])),
        ("POST", "/fhir", .found("/fhir", [:])),
        ("DELETE", "/break-glass/g1", .found("/break-glass/{id}", ["id": "g1"])),
        ("GET", "/break-glass/g1", .notAllowed(["DELETE"])),
        ("PUT", "/break-glass", .notAllowed(["GET", "HEAD", "POST"])),
        ("GET", "/fhir/../healthz", .badPath),
        ("GET", "/fhir/Patient/%2e%2e", .badPath),
        ("GET", "/./healthz", .badPath),
        ("GET", "/fhir/Patient/a%00b", .badPath),
        ("GET", "/fhir/Patient/a%0Ab", .badPath),
        ("GET", "/nope", .notFound),
        ("HEAD", "/fhir/Patient/123", .found("/fhir/{type}/{id}", ["type": "Patient", "id": "123"])),
        ("HEAD", "/break-glass/g1", .notAllowed(["DELETE"])),
        ("GET", "/fhir//123", .notFound),
        ("GET", "/fhir/Patient/%zz/$everything", .badPath),
        ("GET", "/fhir/Patient/%zz/other", .badPath),
        ("GET", "/fhir/Patient/..%2F/x", .notFound),
        ("GET", "/fhir/Patient/.../$everything", .found("/fhir/Patient/{id}/$everything", ["id": "..."])),
        ("GET", "/fhir/Pat%69ent/1", .found("/fhir/{type}/{id}", ["type": "Patient", "id": "1"])),
        ("GET", "/fhir/M%C3%BCller/1", .found("/fhir/{type}/{id}", ["type": "M\u{FC}ller", "id": "1"])),
    ]

    @Test("route matching", arguments: cases)
    func matching(method: String, path: String, expected: Expected) {
        let actual: Expected
        switch Self.router.match(method: method, path: path) {
        case .found(let route, let parameters): actual = .found(route.pattern, parameters)
        case .methodNotAllowed(let allowed): actual = .notAllowed(allowed)
        case .notFound: actual = .notFound
        case .badPath: actual = .badPath
        }
        #expect(actual == expected)
    }
}

@Suite("Request ids")
struct RequestIDTests {
    @Test(
        "incoming ids are echoed only when safe",
        arguments: [
            ("abc-123", true), ("A.b_c-9", true), (String(repeating: "a", count: 128), true),
            (String(repeating: "a", count: 129), false), ("", false), ("has space", false),
            ("semi;colon", false), ("quote\"", false), ("é", false), ("line\nbreak", false),
        ])
    func validation(candidate: String, valid: Bool) {
        #expect(RequestIDGenerator.isValid(candidate) == valid)
        #expect((RequestIDGenerator().resolve(candidate) == candidate) == valid)
    }

    @Test("generated ids are 32 lowercase hex characters and differ, also across generators")
    func generated() {
        let generator = RequestIDGenerator()
        let a = generator.next()
        let b = generator.next()
        let c = RequestIDGenerator().next()
        #expect(a != c && b != c)
        #expect(a.utf8.count == 32)
        #expect(a.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(a != b)
    }
}

@Suite("Response compression")
struct CompressionTests {
    @Test(
        "Accept-Encoding negotiation",
        arguments: [
            (nil, false), ("gzip", true), ("GZIP", true), ("deflate, gzip;q=0.5", true), ("gzip;q=0", false),
            ("gzip; q=0.0", false), ("br", false), ("*", true), ("*;q=0", false), ("gzip;q=0, *", false),
            ("identity", false), ("x-gzip", true), ("br, *;q=0.1", true),
        ] as [(String?, Bool)])
    func negotiation(header: String?, accepted: Bool) {
        #expect(ResponseCompression.acceptsGzip(header) == accepted)
    }

    @Test("large JSON is gzipped when accepted, small or refused bodies are not")
    func application() throws {
        let big = Array(String(repeating: "{\"k\":\"v\"}", count: 200).utf8)
        var response = Response.json(200, big)
        ResponseCompression.apply(to: &response, acceptEncoding: "gzip")
        #expect(response.headers["Content-Encoding"] == "gzip")
        #expect(response.headers["Vary"] == "Accept-Encoding")
        #expect(Array(response.body.prefix(2)) == [0x1F, 0x8B])
        #expect(response.body.count < big.count)

        var refused = Response.json(200, big)
        ResponseCompression.apply(to: &refused, acceptEncoding: "gzip;q=0")
        #expect(refused.headers["Content-Encoding"] == nil)
        #expect(refused.body == big)

        var small = Response.json(200, "{\"status\":\"ok\"}")
        ResponseCompression.apply(to: &small, acceptEncoding: "gzip")
        #expect(small.headers["Content-Encoding"] == nil)
        #expect(small.headers["Vary"] == nil)
    }
}

@Suite("Metrics")
struct MetricsTests {
    @Test("exposition counts requests by label and buckets latency")
    func exposition() {
        let metrics = ServerMetrics()
        metrics.record(method: "GET", route: "/healthz", status: 200, seconds: 0.0004)
        metrics.record(method: "GET", route: "/healthz", status: 200, seconds: 0.003)
        metrics.record(method: "BREW", route: "unmatched", status: 404, seconds: 0.02)
        let text = metrics.render()
        #expect(text.contains("phigate_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2\n"))
        #expect(text.contains("phigate_http_requests_total{method=\"other\",route=\"unmatched\",status=\"404\"} 1\n"))
        #expect(text.contains("phigate_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0005\"} 1\n"))
        #expect(text.contains("phigate_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 2\n"))
        #expect(text.contains("phigate_http_request_duration_seconds_count{route=\"/healthz\"} 2\n"))
        #expect(text.contains("phigate_http_open_connections 0\n"))
    }
}

@Suite("Request context")
struct RequestContextTests {
    struct Principal: Sendable, Equatable { var name: String }
    struct Tag: Sendable, Equatable { var value: Int }

    /// Steps applied in order, and what each type reads afterwards.
    enum Step: Sendable {
        case setPrincipal(String?)
        case setTag(Int?)
    }

    static let cases: [(steps: [Step], principal: String?, tag: Int?)] = [
        ([], nil, nil),
        ([.setPrincipal("a")], "a", nil),
        ([.setTag(1)], nil, 1),
        ([.setPrincipal("a"), .setTag(1)], "a", 1),
        ([.setPrincipal("a"), .setPrincipal("b")], "b", nil),
        ([.setPrincipal("a"), .setTag(1), .setPrincipal(nil)], nil, 1),
        ([.setTag(1), .setPrincipal("a"), .setTag(nil), .setTag(2)], "a", 2),
        ([.setPrincipal(nil)], nil, nil),
    ]

    @Test("values are kept per type: set, replaced and removed", arguments: cases)
    func values(steps: [Step], principal: String?, tag: Int?) {
        var context = RequestContext()
        for step in steps {
            switch step {
            case .setPrincipal(let name): context[Principal.self] = name.map(Principal.init)
            case .setTag(let value): context[Tag.self] = value.map(Tag.init)
            }
        }
        #expect(context[Principal.self] == principal.map(Principal.init))
        #expect(context[Tag.self] == tag.map(Tag.init))
        #expect(context[String.self] == nil)
    }

    /// Marks its responses so a test can tell which renderer answered.
    struct TaggedRenderer: ErrorRenderer {
        let tag: String
        func render(_ error: any HTTPResponseError, requestID: String) -> Response {
            var response = Response(status: error.status)
            response.headers.add(name: "X-Renderer", value: tag)
            return response
        }
    }

    static let prefixed = Router(
        routes: [], fallbackRenderer: TaggedRenderer(tag: "default"),
        prefixRenderers: [("/fhir", TaggedRenderer(tag: "fhir"))])

    @Test(
        "an unmatched path under a prefix gets that prefix's renderer, whole segments only",
        arguments: [
            ("/fhir", "fhir"), ("/fhir/", "fhir"), ("/fhir/Patient/x/_history", "fhir"), ("/fhirx", "default"),
            ("/fhir-old/Patient", "default"), ("/", "default"), ("/audit/fhir", "default"), ("/FHIR/x", "default"),
        ])
    func prefixRenderers(path: String, tag: String) {
        let response = Self.prefixed.fallbackRenderer(for: path).render(HTTPProblem.notFound(), requestID: "r")
        #expect(response.headers["X-Renderer"] == tag)
    }
}
