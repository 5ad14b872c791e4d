import Testing

@testable import Auth

@Suite("Canonical usernames")
struct UsernameTests {
    /// Inputs that canonicalize, with their canonical form.
    static let accepted: [(String, String)] = [
        ("alice", "alice"),
        ("Alice", "alice"),
        ("ALICE", "alice"),
        ("  alice  ", "alice"),
        ("alice\n", "alice"),
        ("\talice\r\n", "alice"),
        ("dr.bob_smith-2@example.org", "dr.bob_smith-2@example.org"),
        ("7nurse", "7nurse"),
        ("a", "a"),
        (String(repeating: "x", count: 64), String(repeating: "x", count: 64)),
        // NFKC maps compatibility forms to ASCII: full-width letters, the Kelvin sign.
        ("ＡＬＩＣＥ", "alice"),
        ("\u{212A}im", "kim"),
        // U+3000 ideographic space around the name is whitespace after NFKC.
        ("\u{3000}alice\u{3000}", "alice"),
    ]

    /// Inputs without a canonical form.
    static let refused: [(String, String)] = [
        ("", "empty"),
        ("   ", "only whitespace"),
        ("\n", "only a newline"),
        (String(repeating: "x", count: 65), "65 characters"),
        (String(repeating: "x", count: 5000), "far too long"),
        ("аlice", "Cyrillic a"),
        ("alicе", "Cyrillic e"),
        ("bοb", "Greek omicron"),
        ("ali\u{0}ce", "NUL inside"),
        ("ali\u{7}ce", "BEL inside"),
        ("ali\u{1B}[31mce", "escape sequence"),
        ("al ice", "inner space"),
        ("alice\u{200B}", "trailing zero-width space"),
        ("ali\u{200B}ce", "inner zero-width space"),
        ("\u{FEFF}alice", "leading byte order mark"),
        ("\u{0130}nci", "dotted capital I lowercases to i plus a combining dot"),
        ("josé", "accented letter"),
        (".alice", "starts with a dot"),
        ("-alice", "starts with a hyphen"),
        ("@alice", "starts with an at sign"),
        ("_alice", "starts with an underscore"),
        ("alice/../bob", "slash"),
        ("alice'; DROP TABLE accounts;--", "quote and semicolon"),
        ("alice%20", "percent"),
        ("alice+tag", "plus"),
    ]

    @Test("accepted names fold to one canonical spelling", arguments: accepted)
    func acceptedNames(raw: String, canonical: String) {
        #expect(Username.canonical(raw) == canonical)
    }

    @Test("names outside the alphabet or length have no canonical form", arguments: refused)
    func refusedNames(raw: String, why: String) {
        #expect(Username.canonical(raw) == nil, "\(why)")
    }

    @Test("a canonical name is its own canonical form", arguments: accepted.map(\.1))
    func idempotent(name: String) {
        #expect(Username.canonical(name) == name)
    }
}
