import Testing

@testable import Store

@Suite("JSON parser and canonical form")
struct JSONTests {
    static let canonicalCases: [(input: String, canonical: String)] = [
        ("{\"b\":1,\"a\":[true,false,null]}", "{\"a\":[true,false,null],\"b\":1}"),
        ("  {\"x\" :\n 1.50e+3 }\t", "{\"x\":1.50e+3}"),
        ("[-0, 0.10, 12, -3E-2]", "[-0,0.10,12,-3E-2]"),
        ("\"\\u00e9\\ud83d\\ude00\"", "\"\u{E9}\u{1F600}\""),
        ("\"a\\/b\\n\\t\\\"q\\\" \\\\\"", "\"a/b\\n\\t\\\"q\\\" \\\\\""),
        ("\"\\u0001\\u001f\"", "\"\\u0001\\u001f\""),
        ("{\"Z\":{},\"a\":[],\"\u{E9}\":\"\u{E9}\"}", "{\"Z\":{},\"a\":[],\"\u{E9}\":\"\u{E9}\"}"),
        ("\u{FEFF}[1]", "[1]"),
    ]

    @Test("valid input has the expected canonical form", arguments: canonicalCases)
    func canonicalForm(input: String, canonical: String) throws {
        let value = try JSONParser.parse(Array(input.utf8))
        #expect(String(decoding: CanonicalJSON.bytes(value), as: UTF8.self) == canonical)
    }

    static let invalidCases: [(name: String, bytes: [UInt8])] = [
        ("empty", []),
        ("trailing comma in object", Array("{\"a\":1,}".utf8)),
        ("trailing comma in array", Array("[1,]".utf8)),
        ("data after the document", Array("{\"a\":1}x".utf8)),
        ("duplicate key", Array("{\"a\":1,\"a\":2}".utf8)),
        ("lone high surrogate", Array("\"\\ud800\"".utf8)),
        ("lone low surrogate", Array("\"\\udc00\"".utf8)),
        ("leading zero", Array("01".utf8)),
        ("bare fraction point", Array("1.".utf8)),
        ("bare minus", Array("-".utf8)),
        ("bad escape", Array("\"\\x\"".utf8)),
        ("raw control character", Array("\"tab\there\"".utf8)),
        ("invalid UTF-8", [0x22, 0xFF, 0x22]),
        ("truncated literal", Array("nul".utf8)),
        ("missing colon", Array("{\"a\" 1}".utf8)),
        ("unterminated string", Array("\"abc".utf8)),
        (
            "too deep",
            Array(repeating: UInt8(ascii: "["), count: 101)
                + Array(repeating: UInt8(ascii: "]"), count: 101)
        ),
    ]

    @Test("invalid input is refused", arguments: invalidCases)
    func invalidInput(name: String, bytes: [UInt8]) {
        #expect(throws: JSONParser.Failure.self, "\(name)") { try JSONParser.parse(bytes) }
    }

    @Test("nesting up to the limit is accepted")
    func nestingLimit() throws {
        let depth = JSONParser.maximumDepth
        let bytes =
            Array(repeating: UInt8(ascii: "["), count: depth)
            + Array(repeating: UInt8(ascii: "]"), count: depth)
        #expect(CanonicalJSON.bytes(try JSONParser.parse(bytes)) == bytes)
    }

    @Test("a resource starts with resourceType and id, then sorted members")
    func resourceOrder() throws {
        let input =
            "{\"status\":\"final\",\"id\":\"o1\",\"code\":{\"text\":\"x\"},"
            + "\"resourceType\":\"Observation\"}"
        let object = try #require(try JSONParser.parse(Array(input.utf8)).objectValue)
        let expected =
            "{\"resourceType\":\"Observation\",\"id\":\"o1\","
            + "\"code\":{\"text\":\"x\"},\"status\":\"final\"}"
        #expect(String(decoding: CanonicalJSON.resourceBytes(object), as: UTF8.self) == expected)
    }
}
