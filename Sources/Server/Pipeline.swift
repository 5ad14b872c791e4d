import Crypto
import HTTP
import Support

/// Runs a matched request through its middleware and handler and turns every outcome into a
/// response. Thread-agnostic: called on the loop for `.onLoop` routes, on a worker otherwise.
struct Pipeline: Sendable {
    let router: Router
    let logger: Logger

    /// The response for `request` under `route`, never throwing.
    func respond(to request: Request, route: Route) -> Response {
        var response: Response
        do {
            response = try Self.run(request, middleware: route.middleware[...], handler: route.handler)
        } catch {
            response = render(error, request: request, renderer: route.errorRenderer)
        }
        if response.stream != nil {
            ResponseCompression.applyToStream(&response, acceptEncoding: request.headers["Accept-Encoding"])
        } else if request.method == "HEAD" || response.body.count >= ResponseCompression.minimumBytes {
            ResponseCompression.apply(to: &response, acceptEncoding: request.headers["Accept-Encoding"])
        }
        return response
    }

    private static func run(
        _ request: Request, middleware: ArraySlice<any Middleware>, handler: Handler
    ) throws -> Response {
        guard let first = middleware.first else { return try handler(request) }
        return try first.respond(to: request) { next in
            try run(next, middleware: middleware.dropFirst(), handler: handler)
        }
    }

    /// A client-safe response for any error; unknown errors are logged and become a 500.
    func render(_ error: any Error, request: Request, renderer: any ErrorRenderer) -> Response {
        if let known = error as? any HTTPResponseError {
            return renderer.render(known, requestID: request.requestID)
        }
        logger.error(
            "http.handler_failed",
            [
                "req.id": .string(request.requestID), "http.route": .string(request.route),
                "error.type": .string(String(describing: type(of: error))),
            ])
        return renderer.render(InternalServerError(), requestID: request.requestID)
    }
}

/// Request ids: echo what a caller sent when it is safe to echo, otherwise mint one.
///
/// Minted ids are 32 lowercase hex characters: 64 bits drawn from OpenSSL when the generator is
/// made, then a counter. They must be unique and unguessable enough not to collide across
/// processes, not secret, so one draw per loop keeps the random generator off the hot path.
/// Confined to one event loop thread.
final class RequestIDGenerator {
    private let prefix: [UInt8]
    private var counter: UInt64 = 0
    private static let hexDigits = Array("0123456789abcdef".utf8)

    init() {
        prefix = Array(Hex.encode(SecureRandom.bytes(8)).utf8)
    }

    func next() -> String {
        counter &+= 1
        var value = counter
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for i in 0..<16 { buffer[i] = prefix[i] }
            for i in stride(from: 31, through: 16, by: -1) {
                buffer[i] = Self.hexDigits[Int(value & 0xF)]
                value >>= 4
            }
            return 32
        }
    }

    func resolve(_ incoming: String?) -> String {
        if let incoming, RequestIDGenerator.isValid(incoming) { return incoming }
        return next()
    }

    /// 1–128 characters of letters, digits, '.', '_' and '-': safe in headers, logs and JSON.
    static func isValid(_ candidate: String) -> Bool {
        let bytes = candidate.utf8
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }
}
