import Policy
import Testing

@testable import BreakGlass

@Suite("Grants: what an activation request must satisfy")
struct GrantValidationTests {
    typealias F = BreakGlassFixture

    /// One request, who sends it, and the error expected (nil: accepted).
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var role: Role = .clinician
        var patient = "pat-1"
        var reason = "emergency-treatment"
        var justification = "Unresponsive in the emergency department, no history available."
        var acknowledged = true
        var minutes: Int? = nil
        var expected: BreakGlassError.Code?

        var testDescription: String { label }

        var request: ActivationRequest {
            ActivationRequest(
                patientID: patient, reason: reason, justification: justification,
                acknowledged: acknowledged, durationMinutes: minutes)
        }
    }

    static let twenty = "Patient is in shock."  // exactly 20 characters

    static let cases: [Case] = [
        Case(label: "valid", expected: nil),
        Case(label: "justification of exactly 20", justification: twenty, expected: nil),
        Case(
            label: "20 after trimming", justification: "  \n " + twenty + " \n",
            expected: nil),
        Case(
            label: "19 characters", justification: String(twenty.dropLast()),
            expected: .invalidJustification),
        Case(
            label: "short text padded with spaces",
            justification: "   unconscious        ", expected: .invalidJustification),
        Case(
            label: "whitespace only", justification: String(repeating: " ", count: 40),
            expected: .invalidJustification),
        Case(label: "empty justification", justification: "", expected: .invalidJustification),
        Case(
            label: "2000 characters", justification: String(repeating: "a", count: 2000),
            expected: nil),
        Case(
            label: "2001 characters", justification: String(repeating: "a", count: 2001),
            expected: .invalidJustification),
        Case(
            label: "2000 two-scalar characters",
            justification: String(repeating: "e\u{0301}", count: 2000), expected: nil),
        Case(
            label: "line feeds inside", justification: "Collapsed in ward 5.\nNo notes here.",
            expected: nil),
        Case(
            label: "tab", justification: twenty + "\tmore text",
            expected: .invalidJustification),
        Case(
            label: "carriage return", justification: "Collapsed in ward 5.\r\nNo notes here.",
            expected: .invalidJustification),
        Case(
            label: "escape sequence", justification: twenty + "\u{1B}[2J",
            expected: .invalidJustification),
        Case(
            label: "right-to-left override", justification: twenty + "\u{202E}txet",
            expected: .invalidJustification),
        Case(
            label: "line separator", justification: twenty + "\u{2028}forged line",
            expected: .invalidJustification),
        Case(
            label: "zero-width spaces only", justification: String(repeating: "\u{200B}", count: 25),
            expected: .invalidJustification),
        Case(
            label: "other format characters only",
            justification: String(repeating: "\u{2060}\u{FEFF}\u{200C}\u{200D}\u{00AD}", count: 10),
            expected: .invalidJustification),
        Case(
            label: "spaces framed by zero-width spaces",
            justification: "\u{200B}" + String(repeating: " ", count: 30) + "\u{200B}",
            expected: .invalidJustification),
        Case(
            label: "short text padded with invisible characters",
            justification: "unconscious" + String(repeating: "\u{200B}\u{034F}\u{3164}", count: 10),
            expected: .invalidJustification),
        Case(
            label: "20 visible characters and a joiner",
            justification: "Patient is\u{200D} in shock.", expected: nil),
        Case(label: "not acknowledged", acknowledged: false, expected: .notAcknowledged),
        Case(label: "unknown reason", reason: "other", expected: .invalidReason),
        Case(label: "reason in capitals", reason: "EMERGENCY-TREATMENT", expected: .invalidReason),
        Case(label: "empty reason", reason: "", expected: .invalidReason),
        Case(label: "registrar", role: .registrar, expected: .notPermitted),
        Case(label: "compliance", role: .compliance, expected: .notPermitted),
        Case(label: "security admin", role: .securityAdmin, expected: .notPermitted),
        Case(label: "ehr system", role: .ehrSystem, expected: .notPermitted),
        Case(label: "240 minutes", minutes: 240, expected: nil),
        Case(label: "1 minute", minutes: 1, expected: nil),
        Case(label: "241 minutes", minutes: 241, expected: .invalidDuration),
        Case(label: "0 minutes", minutes: 0, expected: .invalidDuration),
        Case(label: "negative minutes", minutes: -5, expected: .invalidDuration),
        Case(label: "patient id with a space", patient: "pat 1", expected: .invalidPatientID),
        Case(label: "empty patient id", patient: "", expected: .invalidPatientID),
        Case(
            label: "patient id of 65", patient: String(repeating: "p", count: 65),
            expected: .invalidPatientID),
    ]

    @Test("requests are checked before anything is written", arguments: cases)
    func validation(testCase: Case) throws {
        let fixture = try F()
        let holder = F.principal("alice", testCase.role)
        if let expected = testCase.expected {
            let prechecked = try #require(throws: BreakGlassError.self) {
                try fixture.grants.precheck(testCase.request, holder: holder, now: F.t0)
            }
            #expect(prechecked.code == expected)
            let activated = try #require(throws: BreakGlassError.self) {
                try fixture.grants.activate(
                    testCase.request, holder: holder, secondFactorStep: 1, now: F.t0)
            }
            #expect(activated.code == expected)
            #expect(!activated.message.contains("Unresponsive"))
            #expect(try fixture.count("break_glass_grants") == 0)
            #expect(try fixture.count("break_glass_reviews") == 0)
        } else {
            try fixture.grants.precheck(testCase.request, holder: holder, now: F.t0)
            let grant = try fixture.grants.activate(
                testCase.request, holder: holder, secondFactorStep: 1, now: F.t0)
            let minutes = Int64(testCase.minutes ?? 60)
            #expect(grant.expiresAt == F.t0 + minutes * 60)
            #expect(grant.justification.first?.isWhitespace == false)
            #expect(grant.justification.last?.isWhitespace == false)
            #expect(try fixture.grants.grant(grant.id) == grant)
        }
    }

    @Test("a request's description leaves out the patient and the free text")
    func requestDescription() {
        var request = F.request("pat-secret-9")
        #expect(
            "\(request)" == "ActivationRequest(reason: emergency-treatment, acknowledged: true, "
                + "minutes: default)")
        request.reason = "Jane Doe, DOB 1970-01-01"
        #expect(!"\(request)".contains("Jane") && !"\(request)".contains("pat-secret"))
        #expect(!"\(request)".contains("Unresponsive"))
    }

    @Test("every documented reason code is accepted and has a summary")
    func reasons() throws {
        #expect(
            ReasonCode.allCases.map(\.rawValue) == [
                "emergency-treatment", "patient-unconscious",
                "urgent-care-unavailable-clinician", "continuity-of-care", "medication-safety",
                "public-health-emergency",
            ])
        let fixture = try F(policy: BreakGlassPolicy(maxActivePerUser: 10))
        for (index, reason) in ReasonCode.allCases.enumerated() {
            #expect(!reason.summary.isEmpty && !reason.summary.contains("\n"))
            var request = F.request("pat-\(index)")
            request.reason = reason.rawValue
            let grant = try fixture.grants.activate(
                request, holder: F.alice, secondFactorStep: 1, now: F.t0)
            #expect(try fixture.grants.grant(grant.id)?.reason == reason)
        }
    }

    /// Policies, and the field named when one is refused.
    static let policies: [(BreakGlassPolicy, String?)] = [
        (BreakGlassPolicy(), nil),
        (BreakGlassPolicy(defaultMinutes: 300), "defaultMinutes"),
        (BreakGlassPolicy(defaultMinutes: 0), "defaultMinutes"),
        (BreakGlassPolicy(maximumMinutes: 1441), "maximumMinutes"),
        (BreakGlassPolicy(maxActivePerUser: 0), "maxActivePerUser"),
        (BreakGlassPolicy(reviewDeadlineHours: 0), "reviewDeadlineHours"),
        (BreakGlassPolicy(justificationMinimum: 0), "justificationMinimum"),
        (BreakGlassPolicy(justificationMinimum: 2001), "justificationMinimum"),
    ]

    @Test("policies out of range are refused, naming the field", arguments: policies)
    func policy(policy: BreakGlassPolicy, field: String?) throws {
        if let field {
            let error = try #require(throws: BreakGlassError.self) { try policy.validate() }
            #expect(error.code == .invalidPolicy && error.message.hasPrefix(field))
        } else {
            try policy.validate()
        }
    }
}
