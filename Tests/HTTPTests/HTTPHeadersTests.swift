import HTTP
import Testing

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    private let sample: HTTPHeaders = [
        "Host": "a.example", "Accept": "text/html", "X-Trace": "1", "accept": "application/json",
    ]

    /// A lookup and what it must return on `sample`.
    struct Lookup: Sendable, CustomTestStringConvertible {
        var name: String
        var first: String?
        var all: [String]
        var testDescription: String { name }
    }

    static let lookups: [Lookup] = [
        Lookup(name: "Host", first: "a.example", all: ["a.example"]),
        Lookup(name: "HOST", first: "a.example", all: ["a.example"]),
        Lookup(name: "accept", first: "text/html", all: ["text/html", "application/json"]),
        Lookup(name: "ACCEPT", first: "text/html", all: ["text/html", "application/json"]),
        Lookup(name: "x-trace", first: "1", all: ["1"]),
        Lookup(name: "X-Missing", first: nil, all: []),
        Lookup(name: "Hos", first: nil, all: []),
        Lookup(name: "Hosts", first: nil, all: []),
    ]

    @Test("lookups ignore ASCII case and keep order", arguments: lookups)
    func lookup(_ lookup: Lookup) {
        #expect(sample[lookup.name] == lookup.first)
        #expect(sample.values(for: lookup.name) == lookup.all)
        #expect(sample.contains(lookup.name) == (lookup.first != nil))
        #expect(sample.count(of: lookup.name) == lookup.all.count)
    }

    @Test("names are kept as sent and iteration follows insertion order")
    func iteration() {
        let names = sample.map(\.name)
        let values = sample.map(\.value)
        #expect(names == ["Host", "Accept", "X-Trace", "accept"])
        #expect(values == ["a.example", "text/html", "1", "application/json"])
        #expect(sample.count == 4)
    }

    @Test("add appends, keeping existing fields of the same name")
    func add() {
        var headers = HTTPHeaders()
        #expect(headers.isEmpty)
        headers.add(name: "Set-Cookie", value: "a=1")
        headers.add(name: "set-cookie", value: "b=2")
        #expect(headers.count == 2)
        #expect(headers.values(for: "SET-COOKIE") == ["a=1", "b=2"])
    }

    @Test("replaceOrAdd replaces the first in place and drops the rest")
    func replaceOrAdd() {
        var headers = sample
        headers.replaceOrAdd(name: "ACCEPT", value: "*/*")
        #expect(
            headers == HTTPHeaders([("Host", "a.example"), ("ACCEPT", "*/*"), ("X-Trace", "1")]))

        headers.replaceOrAdd(name: "Content-Length", value: "0")
        #expect(headers.count == 4)
        #expect(headers.map(\.name).last == "Content-Length")
    }

    @Test("remove drops every field of the name")
    func remove() {
        var headers = sample
        headers.remove(name: "aCCept")
        #expect(headers == ["Host": "a.example", "X-Trace": "1"])
        headers.remove(name: "Absent")
        #expect(headers.count == 2)
    }

    @Test("equality is exact in name spelling, value and order")
    func equality() {
        #expect(HTTPHeaders([("A", "1"), ("B", "2")]) == ["A": "1", "B": "2"])
        #expect(HTTPHeaders([("A", "1"), ("B", "2")]) != ["B": "2", "A": "1"])
        #expect(HTTPHeaders([("A", "1")]) != ["a": "1"])
        #expect(HTTPHeaders([("A", "1")]) != ["A": "1 "])
        #expect(HTTPHeaders([("A", "1")]) != ["A": "1", "A": "1"])
    }

    @Test("case folding is ASCII only")
    func asciiFolding() {
        let headers: HTTPHeaders = ["Stra\u{DF}e": "1", "K": "2"]
        #expect(headers["STRASSE"] == nil)
        #expect(headers["stra\u{DF}e"] == "1")
        #expect(headers["\u{212A}"] == nil)  // KELVIN SIGN does not fold to "k"
        #expect(headers["k"] == "2")
    }
}
