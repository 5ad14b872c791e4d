import Testing

@testable import App

/// Request bodies and configuration files are refused when an object names a member twice:
/// parsers disagree on which value wins.
@Suite("JSON values")
struct JSONValueTests {
    @Test(
        "a member named twice in any object is refused, however it is spelled",
        arguments: [
            #"{"patient":"a","patient":"b"}"#,
            #"{"patient":"a","p\u0061tient":"b"}"#,
            #"{"x":{"y":1,"y":2}}"#,
            #"[{"a":1},{"b":2,"b":3}]"#,
            #"{"a":{"b":1},"a":2}"#,
            #"{"\"":1,"\u0022":2}"#,
        ])
    func duplicates(text: String) {
        #expect(throws: JSONValue.DuplicateMember.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test(
        "the same name in different objects, or as a value, is not a duplicate",
        arguments: [
            #"{"a":1,"b":{"a":2}}"#,
            #"[{"a":1},{"a":2}]"#,
            #"{"a":"a","b":["a","a"]}"#,
            #"{"a\"b":1,"a":2,"b":"\",\"a\":"}"#,
            #"{"a\\":1,"a":2}"#,
            #"{}"#,
        ])
    func distinct(text: String) throws {
        _ = try JSONValue.parse(Array(text.utf8))
    }

    @Test("the first value is not silently taken from a duplicated body")
    func noSilentChoice() {
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(#"{"a":1,"a":1}"#.utf8)) }
    }
}
