import Foundation
import HTTP
import POSIX
import Support
import Testing

@testable import Server

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Pieces of a body, one per call, optionally failing part-way.
final class CountingStream: ResponseBodyStream, @unchecked Sendable {
    // One call at a time, per the stream contract.
    private var remaining: Int
    private let piece: [UInt8]
    private let failAfter: Int?
    private var sent = 0

    init(pieces: Int, piece: [UInt8], failAfter: Int? = nil) {
        self.remaining = pieces
        self.piece = piece
        self.failAfter = failAfter
    }

    struct Broken: Error {}

    func next() throws -> [UInt8]? {
        if let failAfter, sent == failAfter { throw Broken() }
        guard remaining > 0 else { return nil }
        remaining -= 1
        sent += 1
        return piece
    }
}

/// A server on 127.0.0.1 port 0 for the duration of a test.
final class LiveServer {
    let server: HTTPServer
    var base: String { "http://\(server.boundAddress)" }

    init(routes: [Route]) throws {
        let configuration = ServerConfiguration(address: SocketAddress(parsing: "127.0.0.1:0")!)
        server = try HTTPServer(
            configuration: configuration, router: Router(routes: routes),
            logger: Logger(label: "test", minimumLevel: .critical, sink: MemoryLogSink()))
        server.start()
    }

    func stop() {
        server.shutdown()
        server.wait()
    }

    /// A GET through URLSession; nil data when the transfer failed.
    func get(_ path: String, headers: [String: String] = [:]) -> (status: Int, data: Data?, headers: [String: String]) {
        var request = URLRequest(url: URL(string: base + path)!)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, Data?, [String: String]) = (0, nil, [:])
        URLSession.shared.dataTask(with: request) { data, response, error in
            let http = response as? HTTPURLResponse
            let fields = (http?.allHeaderFields as? [String: String]) ?? [:]
            result = (http?.statusCode ?? 0, error == nil ? data : nil, fields)
            done.signal()
        }.resume()
        done.wait()
        return result
    }
}

@Suite("Live server", .serialized)
struct LiveServerTests {
    static let piece = Array(String(repeating: "0123456789abcdef", count: 64).utf8)

    static func routes() -> [Route] {
        [
            Route("GET", "/stream") { _ in
                var response = Response(status: 200, headers: HTTPHeaders([("Content-Type", "application/x-ndjson")]))
                response.stream = CountingStream(pieces: 300, piece: piece)
                return response
            },
            Route("GET", "/broken") { _ in
                var response = Response(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]))
                response.stream = CountingStream(pieces: 300, piece: piece, failAfter: 5)
                return response
            },
            Route("GET", "/plain", execution: .onLoop) { _ in Response.text(200, "plain") },
        ]
    }

    @Test("a streamed body arrives whole, chunked, and gzip-compressed when accepted")
    func streamed() throws {
        let live = try LiveServer(routes: Self.routes())
        defer { live.stop() }
        let identity = live.get("/stream", headers: ["Accept-Encoding": "identity"])
        #expect(identity.status == 200)
        #expect(identity.data?.count == 300 * Self.piece.count)
        #expect(identity.data.map { Array($0.prefix(Self.piece.count)) } == Self.piece)
        let gzipped = live.get("/stream", headers: ["Accept-Encoding": "gzip"])
        #expect(gzipped.status == 200)
        #expect(gzipped.data?.count == 300 * Self.piece.count)
        #expect(live.get("/plain").data.map { String(decoding: $0, as: UTF8.self) } == "plain")
    }

    @Test("a stream that fails part-way ends the connection without the last chunk")
    func broken() throws {
        let live = try LiveServer(routes: Self.routes())
        defer { live.stop() }
        let result = live.get("/broken", headers: ["Accept-Encoding": "identity"])
        #expect(result.data == nil)
        #expect(live.get("/plain").status == 200)
    }
}
