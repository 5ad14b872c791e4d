import Foundation
import Testing

@testable import Audit

@Suite("Canonical encoding (RFC 8785)")
struct CanonicalEncoderTests {
    static func text(_ value: AuditJSON) throws -> String {
        String(decoding: try AuditCanonicalEncoder.encode(value), as: UTF8.self)
    }

    @Test("RFC 8785 section 3.2.2.2: the string of the example object")
    func rfcStringExample() throws {
        // The input member is "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/".
        let input = #""\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/""#
        let parsed = try AuditJSONReader.read(Array(input.utf8))
        #expect(parsed == .string("\u{20AC}$\u{0F}\nA'B\"\\\\\"/"))
        #expect(try Self.text(parsed) == #""€$\u000f\nA'B\"\\\\\"/""#)
    }

    @Test("RFC 8785 section 3.2.3: members sorted by UTF-16 code units")
    func rfcSortingExample() throws {
        let input = """
            {
              "\\u20ac": "Euro Sign",
              "\\r": "Carriage Return",
              "\\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\\ud83d\\ude00": "Emoji: Grinning Face",
              "\\u0080": "Control",
              "\\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """
        let parsed = try AuditJSONReader.read(Array(input.utf8))
        let expected =
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\","
            + "\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\","
            + "\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try Self.text(parsed) == expected)
    }

    @Test(
        "string escaping follows JSON.stringify",
        arguments: [
            ("plain", "\"plain\""),
            ("a/b", "\"a/b\""),
            ("\u{7F}", "\"\u{7F}\""),
            ("\u{00}\u{01}\u{1F}", "\"\\u0000\\u0001\\u001f\""),
            ("\u{08}\u{09}\u{0A}\u{0B}\u{0C}\u{0D}", "\"\\b\\t\\n\\u000b\\f\\r\""),
            ("\"\\", "\"\\\"\\\\\""),
            ("Zoë 東京 \u{1F600}", "\"Zoë 東京 \u{1F600}\""),
            ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
        ])
    func stringEscaping(input: String, expected: String) throws {
        #expect(try Self.text(.string(input)) == expected)
    }

    @Test(
        "integers print as ECMAScript prints them (RFC 8785 appendix B values)",
        arguments: [
            (Int64(0), "0"),
            (Int64(1), "1"),
            (Int64(-1), "-1"),
            (Int64(1_700_000_000_123), "1700000000123"),
            (Int64(9_007_199_254_740_991), "9007199254740991"),  // 433fffffffffffff
            (Int64(-9_007_199_254_740_991), "-9007199254740991"),
        ])
    func integers(value: Int64, expected: String) throws {
        #expect(try Self.text(.integer(value)) == expected)
    }

    @Test(
        "integers a double cannot hold exactly are refused",
        arguments: [Int64(9_007_199_254_740_992), -9_007_199_254_740_992, .max, .min])
    func integerRange(value: Int64) {
        #expect(throws: AuditError.self) { try AuditCanonicalEncoder.encode(.integer(value)) }
    }

    static let sample = AuditEntry(
        seq: 7, time: 1_700_000_000_123, event: "fhir.read", actor: "alice",
        roles: ["clinician"], action: "read", outcome: "allowed", status: 200, patient: "p1",
        resources: ["Patient/p1", "Observation/o2"], requestID: "r-1")

    static let sampleText =
        #"{"action":"read","actor":"alice","event":"fhir.read","outcome":"allowed","patient":"p1","#
        + #""request_id":"r-1","resources":["Patient/p1","Observation/o2"],"roles":["clinician"],"#
        + #""seq":7,"status":200,"time":1700000000123}"#

    @Test("an entry encodes to exactly these bytes")
    func entryBytes() throws {
        let bytes = try AuditCanonicalEncoder.encode(Self.sample)
        #expect(String(decoding: bytes, as: UTF8.self) == Self.sampleText)
        #expect(AuditCanonicalEncoder.isCanonical(bytes))
    }

    @Test("empty optional strings, lists and maps are left out")
    func emptyFieldsOmitted() throws {
        var entry = Self.sample
        entry.proxy = ""
        entry.details = [:]
        entry.grant = nil
        let bytes = try AuditCanonicalEncoder.encode(entry)
        #expect(String(decoding: bytes, as: UTF8.self) == Self.sampleText)
    }

    static let fullEntries: [AuditEntry] = [
        sample,
        AuditEntry(
            seq: 1, time: 0, event: "server.start", actor: "phigate", action: "start",
            outcome: "allowed", status: 0),
        AuditEntry(
            seq: 9_007_199_254_740_991, time: -5, event: "break_glass.activate",
            actor: "dr.ünïcode", roles: ["clinician", "registrar"], proxy: "ehr-1",
            action: "activate", outcome: "allowed", status: 201, rule: "break-glass",
            patient: "p/\u{1F600}", resources: ["Patient/x"], purpose: "break-glass",
            grant: "g-1", reason: "emergency", justification: "line1\nline2\t\"quoted\" \u{01}",
            requestID: "req", client: "::1", userAgent: "Mozilla/5.0 (X11)",
            details: ["\u{20AC}": "euro", "\r": "cr", "\u{1F600}": "emoji", "b": "\\"]),
    ]

    @Test(
        "entries survive encode then decode, and their bytes are canonical",
        arguments: fullEntries)
    func roundTrip(entry: AuditEntry) throws {
        let bytes = try AuditCanonicalEncoder.encode(entry)
        #expect(try AuditCanonicalEncoder.decode(bytes) == entry)
        #expect(AuditCanonicalEncoder.isCanonical(bytes))
    }

    /// `sampleText` with the first `target` replaced by `replacement`.
    static func edit(_ target: String, with replacement: String) -> String {
        sampleText.replacingFirst(target, with: replacement)
    }

    /// Variations of `sampleText` that must not count as canonical.
    static let nonCanonical: [(String, String)] = [
        ("whitespace after a colon", edit(#""seq":7"#, with: #""seq": 7"#)),
        ("a trailing newline", sampleText + "\n"),
        ("a leading space", " " + sampleText),
        (
            "unsorted members",
            sampleText.replacingOccurrences(
                of: #""action":"read","actor":"alice""#, with: #""actor":"alice","action":"read""#)
        ),
        ("a float", edit(#""status":200"#, with: #""status":200.0"#)),
        ("an exponent", edit(#""status":200"#, with: #""status":2e2"#)),
        ("a leading zero", edit(#""seq":7"#, with: #""seq":07"#)),
        ("negative zero", edit(#""seq":7"#, with: #""seq":-0"#)),
        ("an escaped solidus", edit("Patient/p1", with: #"Patient\/p1"#)),
        ("an escaped letter", edit(#""p1""#, with: #""\u00701""#)),
        (
            "an empty optional string",
            sampleText.replacingOccurrences(
                of: #""outcome""#, with: #""client":"","outcome""#)
        ),
        ("an empty list", edit(#"["clinician"]"#, with: "[]")),
        (
            "a duplicate member",
            sampleText.replacingOccurrences(
                of: #""actor":"alice""#, with: #""actor":"alice","actor":"alice""#)
        ),
        ("a missing required member", edit(#""actor":"alice","#, with: "")),
        ("a boolean", edit(#""status":200"#, with: #""status":true"#)),
        ("a null", edit(#""patient":"p1""#, with: #""patient":null"#)),
        ("a number as text", edit(#""status":200"#, with: #""status":"200""#)),
        ("a top-level array", "[" + sampleText + "]"),
        ("truncated", String(sampleText.dropLast())),
    ]

    @Test("isCanonical refuses what another encoder might write", arguments: nonCanonical)
    func rejects(name: String, text: String) {
        #expect(text != Self.sampleText, "the case \(name) must differ from the canonical text")
        #expect(!AuditCanonicalEncoder.isCanonical(Array(text.utf8)))
    }

    @Test(
        "the decoder refuses broken JSON",
        arguments: [
            #"{"a":"\ud800"}"#,  // an unpaired surrogate
            "{\"a\":\"\u{01}\"}",  // a raw control character
            #"{"a":"\x"}"#,  // an unknown escape
            #"{"a":1,}"#,  // a trailing comma
            #"{"a":12345678901234567}"#,  // more digits than an exact integer has
        ])
    func readerRejects(text: String) {
        #expect(throws: AuditError.self) { try AuditJSONReader.read(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        let bytes: [UInt8] = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: AuditError.self) { try AuditJSONReader.read(bytes) }
    }
}
