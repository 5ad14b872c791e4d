import HTTP
import Testing

@Suite("Response encoder")
struct ResponseEncoderTests {
    struct EncodeCase: Sendable, CustomTestStringConvertible {
        var name: String
        var head: HTTPResponseHead
        var expected: String
        var testDescription: String { name }
    }

    static let cases: [EncodeCase] = [
        EncodeCase(
            name: "no headers", head: HTTPResponseHead(status: 204),
            expected: "HTTP/1.1 204 No Content\r\n\r\n"),
        EncodeCase(
            name: "headers in order",
            head: HTTPResponseHead(
                status: 200,
                headers: [
                    "Content-Type": "application/fhir+json", "Content-Length": "2", "X-A": "",
                ]),
            expected:
                "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 2\r\n"
                + "X-A: \r\n\r\n"),
        EncodeCase(
            name: "continue", head: HTTPResponseHead(status: 100),
            expected: "HTTP/1.1 100 Continue\r\n\r\n"),
        EncodeCase(
            name: "header too large",
            head: HTTPResponseHead(status: 431, headers: ["Connection": "close"]),
            expected: "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"),
        EncodeCase(
            name: "status without a phrase", head: HTTPResponseHead(status: 599),
            expected: "HTTP/1.1 599 \r\n\r\n"),
        EncodeCase(
            name: "CR and LF in a value become spaces",
            head: HTTPResponseHead(status: 302, headers: ["Location": "/a\r\nSet-Cookie: x=1"]),
            expected: "HTTP/1.1 302 Found\r\nLocation: /a  Set-Cookie: x=1\r\n\r\n"),
        EncodeCase(
            name: "NUL becomes a space, HTAB and UTF-8 stay",
            head: HTTPResponseHead(status: 200, headers: ["X-A": "a\u{0}b\tc\u{E9}"]),
            expected: "HTTP/1.1 200 OK\r\nX-A: a b\tc\u{E9}\r\n\r\n"),
        EncodeCase(
            name: "a field with an invalid name is left out",
            head: HTTPResponseHead(
                status: 200, headers: ["Bad Name": "1", "": "2", "X\r\nY": "3", "Good": "4"]),
            expected: "HTTP/1.1 200 OK\r\nGood: 4\r\n\r\n"),
    ]

    @Test("writes the exact wire bytes", arguments: cases)
    func encode(_ testCase: EncodeCase) {
        var buffer: [UInt8] = []
        HTTPResponseEncoder.encode(testCase.head, into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == testCase.expected)
    }

    @Test("appends to what the buffer already holds")
    func appends() {
        var buffer = wire("prefix")
        HTTPResponseEncoder.encode(HTTPResponseHead(status: 404), into: &buffer)
        #expect(buffer == wire("prefixHTTP/1.1 404 Not Found\r\n\r\n"))
    }

    @Test(
        "reason phrases",
        arguments: [
            (200, "OK"), (201, "Created"), (400, "Bad Request"), (401, "Unauthorized"),
            (403, "Forbidden"),
            (413, "Content Too Large"), (414, "URI Too Long"), (417, "Expectation Failed"),
            (429, "Too Many Requests"), (501, "Not Implemented"),
            (505, "HTTP Version Not Supported"),
            (299, ""),
        ])
    func reasonPhrase(_ status: Int, _ phrase: String) {
        #expect(HTTPStatus.reasonPhrase(status) == phrase)
    }

    @Test(
        "field name and value validity",
        arguments: [
            ("Content-Type", "text/plain", true, true), ("X_Y.z~1", "a\tb", true, true),
            ("", "", false, true), ("A B", " lead", false, false), ("A:", "trail ", false, false),
            ("\u{E9}", "caf\u{E9}", false, true), ("X", "a\rb", true, false),
            ("X", "a\u{7F}", true, false),
        ])
    func validity(_ name: String, _ value: String, _ nameValid: Bool, _ valueValid: Bool) {
        #expect(HTTPResponseEncoder.isValidFieldName(name) == nameValid)
        #expect(HTTPResponseEncoder.isValidFieldValue(value) == valueValid)
    }
}
