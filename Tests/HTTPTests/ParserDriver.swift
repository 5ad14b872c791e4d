@testable import HTTP
import Testing

/// What a test saw from the parser, in a form that compares with `==`.
enum Observed: Equatable, Sendable, CustomStringConvertible {
    case head(Snapshot)
    case request(Snapshot)
    case failure(status: Int, code: HTTPParseError.Code)

    var description: String {
        switch self {
        case .head(let snapshot): "head(\(snapshot))"
        case .request(let snapshot): "request(\(snapshot))"
        case .failure(let status, let code): "failure(\(status), \(code))"
        }
    }
}

/// Every field of a parsed request, comparable.
struct Snapshot: Equatable, Sendable, CustomStringConvertible {
    var method: String
    var target: String
    var path: String
    var query: String?
    var version: HTTPVersion
    var headers: HTTPHeaders
    var keepAlive: Bool
    var expectsContinue: Bool
    var body: [UInt8] = []
    var trailers = HTTPHeaders()

    init(
        _ method: String, _ target: String, path: String? = nil, query: String? = nil,
        version: HTTPVersion = .http1_1, headers: HTTPHeaders, keepAlive: Bool = true,
        expectsContinue: Bool = false, body: String = "", trailers: HTTPHeaders = HTTPHeaders()
    ) {
        self.method = method
        self.target = target
        self.path = path ?? target
        self.query = query
        self.version = version
        self.headers = headers
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
        self.body = Array(body.utf8)
        self.trailers = trailers
    }

    init(_ head: HTTPRequestHead, body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders()) {
        method = head.method
        target = head.target
        path = head.path
        query = head.query
        version = head.version
        headers = head.headers
        keepAlive = head.keepAlive
        expectsContinue = head.expectsContinue
        self.body = body
        self.trailers = trailers
    }

    /// The same request as seen in a `.head` event: no body or trailers yet.
    var headOnly: Snapshot {
        var copy = self
        copy.body = []
        copy.trailers = HTTPHeaders()
        return copy
    }

    var description: String {
        "\(method) \(target) path=\(path) query=\(query ?? "nil") \(version) "
            + "headers=\(Array(headers)) keepAlive=\(keepAlive) continue=\(expectsContinue) "
            + "body=\(String(decoding: body, as: UTF8.self)) trailers=\(Array(trailers))"
    }
}

/// Feeds `segments` to a fresh parser the way a connection would, checking the parse
/// contract on every call: a nil event means everything was consumed, and consumed never
/// exceeds the input. Stops at the first failure.
func drive(_ segments: [[UInt8]], limits: HTTPLimits = HTTPLimits()) -> [Observed] {
    var parser = HTTPRequestParser(limits: limits)
    var observed: [Observed] = []
    for segment in segments {
        var offset = 0
        repeat {
            let (consumed, event) = segment.withUnsafeBytes { bytes in
                parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            }
            #expect(consumed >= 0 && consumed <= segment.count - offset)
            guard let event else {
                #expect(consumed == segment.count - offset, "nil event must consume all input")
                break
            }
            offset += consumed
            switch event {
            case .head(let head):
                #expect(parser.isReadingBody)
                observed.append(.head(Snapshot(head)))
            case .request(let request):
                observed.append(
                    .request(Snapshot(request.head, body: request.body, trailers: request.trailers))
                )
            case .failure(let error):
                #expect(consumed == 0)
                observed.append(.failure(status: error.status, code: error.code))
                return observed
            }
        } while offset < segment.count
    }
    return observed
}

/// The whole input in one call.
func whole(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }

/// One byte per call.
func byteByByte(_ bytes: [UInt8]) -> [[UInt8]] { bytes.map { [$0] } }

/// Pieces of random length from 1 to `maxPiece`, reproducible from `seed`.
func randomSplits(_ bytes: [UInt8], seed: UInt64, maxPiece: Int = 7) -> [[UInt8]] {
    var generator = SplitMix64(seed: seed)
    var pieces: [[UInt8]] = []
    var start = 0
    while start < bytes.count {
        let length = Int.random(in: 1...maxPiece, using: &generator)
        let end = min(bytes.count, start + length)
        pieces.append(Array(bytes[start..<end]))
        start = end
    }
    return pieces
}

/// A small deterministic generator so split patterns are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Test input text: `\r\n` and other escapes are written out in the Swift literal.
func wire(_ text: String) -> [UInt8] { Array(text.utf8) }
