import Testing

@testable import Store

/// Text bound in place for the duration of a closure.
@Suite("In-place text binding")
struct InPlaceBindingTests {
    static let pairs: [(String, String)] = [
        ("", ""),
        ("Patient", "demo-pat-0001"),
        ("a-long-practitioner-id-on-the-heap", "another-long-patient-identifier"),
        ("h\u{E9}llo \u{2713}", "\u{1F600}"),
        ("nul\u{0}inside", "x"),
        ("", "only second"),
    ]

    @Test("both values reach SQLite intact and are gone after the closure", arguments: pairs)
    func roundTrip(first: String, second: String) throws {
        let database = try Database(path: ":memory:")
        let statement = try database.prepare("SELECT ?1, ?2, length(CAST(?1 AS BLOB)), typeof(?2)")
        let read = try statement.withText(first, second) { row -> [String?] in
            guard try row.step() else { return [] }
            return [row.text(at: 0), row.text(at: 1), row.text(at: 2), row.text(at: 3)]
        }
        #expect(read == [first, second, String(first.utf8.count), "text"])
        #expect(try statement.step())
        #expect(statement.isNull(at: 0) && statement.isNull(at: 1))
        statement.reset()
    }

    @Test("a lookup keyed by two strings finds the same row as a copied binding")
    func lookup() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE t(a TEXT, b TEXT, v INTEGER, PRIMARY KEY(a, b))")
        for (index, pair) in Self.pairs.enumerated() {
            try database.run("INSERT OR REPLACE INTO t VALUES (?, ?, ?)", [.text(pair.0), .text(pair.1), .int(index)])
        }
        let statement = try database.prepare("SELECT v FROM t WHERE a = ? AND b = ?")
        for (index, pair) in Self.pairs.enumerated() {
            let found = try statement.withText(pair.0, pair.1) { row in try row.step() ? row.int(at: 0) : nil }
            #expect(found == index)
        }
        #expect(try statement.withText("missing", "") { row in try row.step() } == false)
    }
}
