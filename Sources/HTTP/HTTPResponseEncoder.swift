/// A response status and header fields, before the body.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.headers = headers
    }
}

/// Writes a response head in HTTP/1.1 wire format.
///
/// The encoder adds nothing on its own: Content-Length, Date, Connection and the like are
/// the caller's headers. It does guard the framing of what it writes, because header values
/// may carry request-derived text (a Location, an ETag): a field whose name is not a token
/// is left out, and any byte in a value that could end the line or confuse a reader (CR,
/// LF, NUL and the other controls except HTAB) is written as a space. Response splitting
/// is thereby impossible whatever the caller passes in.
public enum HTTPResponseEncoder {
    /// Appends `HTTP/1.1 <status> <reason>\r\n`, each header as `Name: value\r\n`, then `\r\n`.
    /// `head.status` must be a three-digit code (100–999). With `terminated` false the closing
    /// empty line is left for the caller, who appends fields of its own first.
    public static func encode(_ head: HTTPResponseHead, into buffer: inout [UInt8], terminated: Bool = true) {
        precondition((100...999).contains(head.status), "status must have three digits")
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        let status = UInt8(head.status / 100)
        buffer.append(0x30 + status)
        buffer.append(0x30 + UInt8(head.status / 10 % 10))
        buffer.append(0x30 + UInt8(head.status % 10))
        buffer.append(ASCII.space)
        buffer.append(contentsOf: HTTPStatus.reasonPhrase(head.status).utf8)
        buffer.append(ASCII.cr)
        buffer.append(ASCII.lf)

        for field in head.headers where isValidFieldName(field.name) {
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(ASCII.colon)
            buffer.append(ASCII.space)
            appendValue(field.value, to: &buffer)
            buffer.append(ASCII.cr)
            buffer.append(ASCII.lf)
        }
        if terminated {
            buffer.append(ASCII.cr)
            buffer.append(ASCII.lf)
        }
    }

    /// Whether `name` is a non-empty token (RFC 9110 5.1), as a field name must be.
    public static func isValidFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(ASCII.isTokenByte)
    }

    /// Whether `value` holds only HTAB, SP, VCHAR and obs-text, with no leading or trailing
    /// whitespace (RFC 9110 5.5).
    public static func isValidFieldValue(_ value: String) -> Bool {
        let bytes = value.utf8
        guard bytes.allSatisfy(ASCII.isFieldValueByte) else { return false }
        guard let first = bytes.first, let last = bytes.last else { return true }
        return !ASCII.isWhitespace(first) && !ASCII.isWhitespace(last)
    }

    private static func appendValue(_ value: String, to buffer: inout [UInt8]) {
        let bytes = value.utf8
        if bytes.allSatisfy(ASCII.isFieldValueByte) {
            buffer.append(contentsOf: bytes)
            return
        }
        for byte in bytes {
            buffer.append(ASCII.isFieldValueByte(byte) ? byte : ASCII.space)
        }
    }
}
