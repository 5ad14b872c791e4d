/// The part of an HTTP/1.x response that a delivery needs: the status code and a
/// `Retry-After` in seconds.
struct ResponseHead: Equatable {
    let status: Int
    let retryAfterSeconds: Int64?

    init(status: Int, retryAfterSeconds: Int64?) {
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Reads heads from `stream` until a final one (not 1xx) arrives, and returns its outcome.
    ///
    /// Throws `.connectionLost` when the stream ends before any byte, `.invalidResponse` when
    /// it ends inside a head, when a head is not HTTP/1.x or when more than
    /// ``TLSSocketTransport/maximumResponseHeadBytes`` arrive without a complete head. The
    /// body is never read.
    static func read(from stream: SocketStream) throws(ExchangeFailure) -> AttemptOutcome {
        var received: [UInt8] = []
        var searchFrom = 0
        var sawAnything = false
        while true {
            if let end = headEnd(in: received, from: searchFrom) {
                guard let head = ResponseHead(parsing: received[..<end]) else {
                    throw ExchangeFailure(.invalidResponse)
                }
                guard (100...199).contains(head.status) else {
                    return .response(status: head.status, retryAfterSeconds: head.retryAfterSeconds)
                }
                // An interim response (100 Continue, 103 Early Hints): the real one follows.
                received.removeFirst(end + 4)
                searchFrom = 0
                continue
            }
            guard received.count <= TLSSocketTransport.maximumResponseHeadBytes else {
                throw ExchangeFailure(.invalidResponse)
            }
            searchFrom = max(0, received.count - 3)
            guard let chunk = try stream.read() else {
                throw ExchangeFailure(sawAnything ? .invalidResponse : .connectionLost)
            }
            sawAnything = sawAnything || !chunk.isEmpty
            received += chunk
        }
    }

    /// The index of the CR LF CR LF that ends the head, searching from `start`.
    static func headEnd(in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 4 else {
            return nil
        }
        var index = start
        while index + 4 <= bytes.count {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A && bytes[index + 2] == 0x0D
                && bytes[index + 3] == 0x0A
            {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Parses a head (without its final blank line): `HTTP/1.x SSS[ reason]` then fields.
    /// Nil when the status line is malformed or the status is outside 100...599.
    init?<Bytes: Collection<UInt8>>(parsing head: Bytes) {
        let text = String(decoding: head, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines[0].utf8
        guard statusLine.count >= 12, statusLine.starts(with: "HTTP/1.".utf8) else {
            return nil
        }
        let bytes = Array(statusLine)
        let digits = bytes[9..<12]
        guard (0x30...0x39).contains(bytes[7]), bytes[8] == 0x20,
            digits.allSatisfy({ (0x30...0x39).contains($0) }),
            bytes.count == 12 || bytes[12] == 0x20,
            let status = Int(String(decoding: digits, as: UTF8.self)), (100...599).contains(status)
        else {
            return nil
        }
        var retryAfter: Int64?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                continue
            }
            if line[..<colon].lowercased() == "retry-after" {
                let value = String(line[line.index(after: colon)...])
                retryAfter = TransportDelegate.retryAfterSeconds(value)
            }
        }
        self.status = status
        self.retryAfterSeconds = retryAfter
    }
}
