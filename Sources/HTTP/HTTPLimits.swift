/// Size limits the request parser enforces while bytes arrive.
///
/// Each limit is checked as soon as it is crossed, not when a line or section ends, so a
/// client cannot make the parser buffer more than the limit allows. The statuses follow
/// RFC 9110: 414 for the request line, 431 for the header section (trailers count against
/// the same budget as the header fields of their request) and 413 for the body.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line, without its CRLF. Exceeding it fails with 414.
    public var maxRequestLineBytes: Int
    /// Largest header section after the request line, counting every line ending and the
    /// final empty line. Trailer bytes are added to the same total. Exceeding it fails with 431.
    public var maxHeaderBytes: Int
    /// Most field lines in the header section plus the trailer section. Exceeding it fails
    /// with 431.
    public var maxHeaderCount: Int
    /// Largest body after chunked decoding. A larger Content-Length fails with 413 when the
    /// head is parsed; a chunked body fails as soon as a chunk size would cross it.
    public var maxBodyBytes: Int

    public init(
        maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 16384, maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1 << 20
    ) {
        precondition(maxRequestLineBytes > 0 && maxHeaderBytes > 0, "limits must be positive")
        precondition(maxHeaderCount >= 0 && maxBodyBytes >= 0, "limits must not be negative")
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }

    /// Longest chunk-size line (size digits plus chunk extensions, without CRLF). Not
    /// configurable: extensions carry nothing phigate uses, so a small fixed bound suffices.
    static let maxChunkLineBytes = 1024
}

/// The HTTP versions phigate speaks. Any other well-formed version is answered with 505.
public enum HTTPVersion: Sendable, Equatable {
    case http1_0
    case http1_1
}
