import Audit
import Foundation
import Server
import Testing

@testable import App

/// The export formats, without a server.
@Suite("Audit export")
struct AuditExportTests {
    static func entry(
        outcome: String, status: Int, grant: String? = nil, reason: String? = nil, justification: String? = nil
    ) -> AuditEntry {
        AuditEntry(
            seq: 7, time: 1_796_000_000_000, event: "fhir.read", actor: "dr.a", roles: ["clinician"],
            action: "read", outcome: outcome, status: status, purpose: grant == nil ? nil : "BTG", grant: grant,
            reason: reason, justification: justification, requestID: "req-1")
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(
        "AuditEvent.outcome follows the HTTP status, not only the decision",
        arguments: [
            ("allowed", 200, "0"), ("allowed", 201, "0"), ("allowed", 400, "4"), ("allowed", 404, "4"),
            ("allowed", 503, "8"), ("denied", 403, "4"), ("denied", 401, "4"), ("error", 400, "4"),
            ("error", 500, "8"), ("error", 0, "8"),
        ])
    func outcomeCode(outcome: String, status: Int, code: String) throws {
        let event = try Self.object(AuditEventMapping.json(Self.entry(outcome: outcome, status: status)))
        #expect(event["outcome"] as? String == code)
    }

    @Test("A break-glass entry exports its grant, reason and justification as an entity")
    func breakGlassEntity() throws {
        let entry = Self.entry(
            outcome: "allowed", status: 200, grant: "bg_abc", reason: "emergency-treatment",
            justification: "Unconscious; need allergies")
        let event = try Self.object(AuditEventMapping.json(entry))
        let entities = try #require(event["entity"] as? [[String: Any]])
        func identifier(_ entity: [String: Any]) -> String? {
            ((entity["what"] as? [String: Any])?["identifier"] as? [String: Any])?["value"] as? String
        }
        let grant = try #require(entities.first { identifier($0) == "bg_abc" })
        let details = try #require(grant["detail"] as? [[String: String]])
        #expect(details.contains(["type": "reason", "valueString": "emergency-treatment"]))
        #expect(details.contains(["type": "justification", "valueString": "Unconscious; need allergies"]))
    }

    @Test(
        "the requesting agent is an application for the gateway and ehr-systems, untyped when unknown",
        arguments: [
            ("dr.a", ["clinician"], "humanuser"), ("cli:uid-0", [], "humanuser"),
            ("ehr.demo", ["ehr-system"], "110150"), ("phigate", [], "110150"), ("anonymous", [], nil),
        ] as [(String, [String], String?)])
    func agentType(actor: String, roles: [String], code: String?) throws {
        var entry = Self.entry(outcome: "allowed", status: 200)
        entry.actor = actor
        entry.roles = roles
        let event = try Self.object(AuditEventMapping.json(entry))
        let agent = try #require((event["agent"] as? [[String: Any]])?.first)
        let coding = ((agent["type"] as? [String: Any])?["coding"] as? [[String: Any]])?.first
        #expect(coding?["code"] as? String == code)
        #expect(agent["requestor"] as? Bool == true)
    }

    @Test("An entry without break-glass has no grant entity")
    func noGrantEntity() throws {
        let event = try Self.object(AuditEventMapping.json(Self.entry(outcome: "allowed", status: 200)))
        #expect(!String(describing: event).contains("break-glass-grant"))
    }

    @Test("CEF carries the justification, escaped")
    func cefJustification() {
        let entry = Self.entry(
            outcome: "allowed", status: 201, grant: "bg_abc", reason: "emergency-treatment",
            justification: "a=b\\c\nnext|line")
        let line = CEFLine.format(entry)
        #expect(line.contains(" flexString1Label=justification flexString1=a\\=b\\\\c\\nnext|line"))
        #expect(line.contains(" cs3=bg_abc"))
        #expect(!line.contains("\n"))
    }
}
