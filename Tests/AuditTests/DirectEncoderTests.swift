import Testing

@testable import Audit

@Suite("Direct entry encoder")
struct DirectEncoderTests {
    static let entries: [AuditEntry] = [
        AuditEntry(
            seq: 1, time: 1_796_320_697_887, event: "server.start", actor: "phigate", action: "server.start",
            outcome: "allowed", status: 0, details: ["version": "0.1.0"]),
        AuditEntry(seq: 2, time: 5, event: "", actor: "", action: "", outcome: "", status: 0),
        AuditEntry(
            seq: 9_007_199_254_740_991, time: -1, event: "fhir.read", actor: "dr.demo", roles: ["clinician", "x\"y"],
            proxy: "ehr.demo", action: "fhir.read", outcome: "allowed", status: 200, rule: "clinician.break_glass",
            patient: "p-1", resources: ["Patient/p-1", "Observation/o\\2"], purpose: "BTG", grant: "bg_x",
            reason: "emergency-treatment", justification: "line one\nline two \u{1} é 😀", requestID: "r1",
            client: "127.0.0.1:1", userAgent: "curl/8",
            details: ["é": "1", "e": "2", "\u{FFFD}": "3", "😀": "4", "z": ""]),
        AuditEntry(
            seq: 3, time: 7, event: "auth.login", actor: "a", proxy: "", action: "auth.login", outcome: "denied",
            status: 401, rule: "", patient: "", purpose: "", grant: "", reason: "", justification: "", requestID: "",
            client: "", userAgent: ""),
    ]

    @Test("writes exactly the bytes of the generic canonical encoder", arguments: entries)
    func sameBytes(entry: AuditEntry) throws {
        let direct = try AuditCanonicalEncoder.encode(entry)
        let generic = try AuditCanonicalEncoder.encode(entry.jsonValue)
        #expect(String(decoding: direct, as: UTF8.self) == String(decoding: generic, as: UTF8.self))
        #expect(AuditCanonicalEncoder.isCanonical(direct))
        #expect(try AuditCanonicalEncoder.decode(direct) == entry.normalised)
    }

    @Test("refuses integers outside the exactly representable range")
    func range() {
        let entry = AuditEntry(
            seq: 9_007_199_254_740_992, time: 1, event: "e", actor: "a", action: "a",
            outcome: "allowed", status: 0)
        #expect(throws: AuditError.self) { try AuditCanonicalEncoder.encode(entry) }
    }
}

extension AuditEntry {
    /// What decoding the canonical bytes gives back: empty optional strings become nil.
    fileprivate var normalised: AuditEntry {
        var copy = self
        for path in [
            \AuditEntry.proxy, \.rule, \.patient, \.purpose, \.grant, \.reason, \.justification,
            \.requestID, \.client, \.userAgent,
        ] as [WritableKeyPath<AuditEntry, String?>]
        where copy[keyPath: path]?.isEmpty == true {
            copy[keyPath: path] = nil
        }
        return copy
    }
}
