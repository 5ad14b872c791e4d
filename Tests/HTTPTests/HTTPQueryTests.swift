import HTTP
import Testing

@Suite("Query parsing and percent-decoding")
struct HTTPQueryTests {
    struct QueryCase: Sendable, CustomTestStringConvertible {
        var query: String
        var expected: [Pair]?
        var testDescription: String { "\"\(query)\"" }
    }

    struct Pair: Equatable, Sendable {
        var name: String
        var value: String
        init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    static let queries: [QueryCase] = [
        QueryCase(query: "", expected: []),
        QueryCase(query: "name=smith", expected: [Pair("name", "smith")]),
        QueryCase(
            query: "name=smith&_count=10", expected: [Pair("name", "smith"), Pair("_count", "10")]),
        QueryCase(query: "a=1&a=2", expected: [Pair("a", "1"), Pair("a", "2")]),
        QueryCase(query: "flag", expected: [Pair("flag", "")]),
        QueryCase(query: "flag=", expected: [Pair("flag", "")]),
        QueryCase(query: "=v", expected: [Pair("", "v")]),
        QueryCase(query: "&&a=1&", expected: [Pair("a", "1")]),
        QueryCase(query: "a=1=2", expected: [Pair("a", "1=2")]),
        QueryCase(query: "q=john+smith", expected: [Pair("q", "john smith")]),
        QueryCase(query: "q=a%2Bb", expected: [Pair("q", "a+b")]),
        QueryCase(query: "q=%26%3D", expected: [Pair("q", "&=")]),
        QueryCase(query: "na%6De=x", expected: [Pair("name", "x")]),
        QueryCase(query: "q=caf%C3%A9", expected: [Pair("q", "caf\u{E9}")]),
        QueryCase(query: "q=caf%c3%a9", expected: [Pair("q", "caf\u{E9}")]),
        QueryCase(query: "date=ge2020-01-01", expected: [Pair("date", "ge2020-01-01")]),
        QueryCase(query: "q=%", expected: nil),
        QueryCase(query: "q=%4", expected: nil),
        QueryCase(query: "q=%zz", expected: nil),
        QueryCase(query: "q=%C3", expected: nil),
        QueryCase(query: "q=%FF", expected: nil),
        QueryCase(query: "ok=1&bad=%G0", expected: nil),
        QueryCase(query: "%=1", expected: nil),
    ]

    @Test("splits and decodes", arguments: queries)
    func parse(_ testCase: QueryCase) {
        let pairs = HTTPQuery.parse(testCase.query)?.map { Pair($0.name, $0.value) }
        #expect(pairs == testCase.expected)
    }

    @Test(
        "percent-decodes path segments",
        arguments: [
            ("Patient", "Patient"), ("a%20b", "a b"), ("a+b", "a+b"), ("%2F", "/"),
            ("%41%42", "AB"),
            ("caf%C3%A9", "caf\u{E9}"), ("%E2%82%AC", "\u{20AC}"), ("", ""),
        ])
    func decodes(_ segment: String, _ expected: String) {
        #expect(HTTPQuery.percentDecode(Substring(segment)) == expected)
    }

    @Test(
        "rejects bad escapes and invalid UTF-8",
        arguments: [
            "%", "a%", "%2", "%2G", "%G2", "%C3", "%C3%28", "%80", "%ED%A0%80", "%F8%88%80%80%80",
        ])
    func rejects(_ segment: String) {
        #expect(HTTPQuery.percentDecode(Substring(segment)) == nil)
    }

    @Test("decodes a substring without looking outside it")
    func substring() {
        let path = "/fhir/Patient/a%20b/_history"
        let segments = path.split(separator: "/")
        #expect(
            segments.map { HTTPQuery.percentDecode($0) } == ["fhir", "Patient", "a b", "_history"])
    }
}
