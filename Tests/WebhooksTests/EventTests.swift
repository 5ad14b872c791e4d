import Foundation
import Testing

@testable import Webhooks

@Suite("Events, message bodies and event filters")
struct EventTests {
    @Test func messageBodyWrapsThePayloadByteForByte() throws {
        let payload = #"{"grant": "g-1",  "patient":"p-9"}"#
        let event = try WebhookEvent(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", type: "break_glass.activated",
            timestamp: 1_614_265_330, payload: Array(payload.utf8))
        let expected =
            #"{"type":"break_glass.activated","timestamp":"2021-02-25T15:02:10Z","data":"#
            + payload + "}"
        #expect(String(decoding: event.messageBody, as: UTF8.self) == expected)
        let parsed = try JSONSerialization.jsonObject(with: Data(event.messageBody))
        #expect((parsed as? [String: Any])?["type"] as? String == "break_glass.activated")
    }

    @Test func generatedIDsAreFreshAndWellFormed() throws {
        let first = try WebhookEvent(type: "auth.lockout", timestamp: 1, payload: Array("{}".utf8))
        let second = try WebhookEvent(type: "auth.lockout", timestamp: 1, payload: Array("{}".utf8))
        #expect(first.id != second.id)
        #expect(first.id.hasPrefix("msg_"))
        #expect(first.id.count == 4 + 32)
        #expect(!first.id.contains("."))
        #expect(WebhookEvent.isValidID(first.id))
    }

    @Test(arguments: [
        ("{}", true), (#"{"a":[1,2,{"b":null}]}"#, true), ("[]", false), ("42", false),
        (#""text""#, false), ("{", false), ("", false), (#"{"a":1} x"#, false),
        ("{\"a\":\"" + String(repeating: "x", count: 70_000) + "\"}", false),
    ])
    func acceptsOnlyJSONObjectPayloads(payload: String, valid: Bool) {
        let result = Result { () throws(WebhookError) in
            try WebhookEvent(type: "audit.checkpoint", timestamp: 1, payload: Array(payload.utf8))
        }
        switch result {
        case .success: #expect(valid)
        case .failure(let error):
            #expect(!valid && error.code == .invalidPayload)
            // The refusal never quotes the payload.
            #expect(payload.count < 3 || !error.description.contains(payload))
        }
    }

    @Test(arguments: [
        ("break_glass.activated", true), ("audit.verify_failed", true), ("x", true),
        ("a.b.c_9", true), ("", false), (".a", false), ("a.", false), ("a..b", false),
        ("a.*", false), ("*", false), ("a-b", false), ("a b", false), ("é", false),
        (String(repeating: "a", count: 129), false),
    ])
    func validatesEventTypes(type: String, valid: Bool) {
        #expect(WebhookEventFilter.isValidType(type) == valid)
        let result = Result { () throws(WebhookError) in
            try WebhookEvent(type: type, timestamp: 1, payload: Array("{}".utf8))
        }
        switch result {
        case .success: #expect(valid)
        case .failure(let error): #expect(!valid && error.code == .invalidEventType)
        }
    }

    @Test(arguments: [
        ("msg_p5jXN8AQM9LWM0D4loKWxJek", true), ("msg_short", false),
        ("msg_p5jXN8AQM9LWM0D4loKWxJek.", false), ("evt_p5jXN8AQM9LWM0D4loKWxJek", false),
        ("msg_p5jXN8AQM9LWM0D4loKW+Jek", false),
    ])
    func validatesEventIDs(id: String, valid: Bool) {
        #expect(WebhookEvent.isValidID(id) == valid)
    }

    /// (patterns, event type, matches)
    static let filterCases: [([String], String, Bool)] = [
        (["*"], "break_glass.activated", true),
        (["break_glass.activated"], "break_glass.activated", true),
        (["break_glass.activated"], "break_glass.ended", false),
        (["break_glass.*"], "break_glass.ended", true),
        (["break_glass.*"], "break_glass", false),
        (["break_glass.*"], "break_glass_x.ended", false),
        (["a.*"], "a.b.c", true),
        (["a.b.*"], "a.b.c", true),
        (["a.b.*"], "a.c.d", false),
        (["audit.checkpoint", "auth.lockout"], "auth.lockout", true),
        (["audit.checkpoint", "auth.lockout"], "review.overdue", false),
    ]

    @Test(arguments: filterCases)
    func matchesFilters(patterns: [String], type: String, matches: Bool) {
        #expect(WebhookEventFilter.matches(Set(patterns), type: type) == matches)
    }

    @Test(arguments: [
        (["*"], true), (["break_glass.*"], true), (["auth.lockout", "review.*"], true),
        ([], false), (["**"], false), (["*.activated"], false), (["break_glass.*.x"], false),
        (["a b"], false), (["break_glass."], false), (["audit.*", "review.overdue"], true),
        (["break_glass.activate"], false), (["auth.lockouts"], false), (["nope"], false),
        (["breakglass.*"], false), (["break_glass.activated.*"], false), (["*", "nope"], false),
    ])
    func validatesFilters(patterns: [String], valid: Bool) {
        let result = Result { () throws(WebhookError) in
            try WebhookEventFilter.validate(Set(patterns))
        }
        switch result {
        case .success: #expect(valid)
        case .failure(let error): #expect(!valid && error.code == .invalidEventFilter)
        }
    }

    @Test("a pattern that matches no type phigate sends is named, with the known types")
    func refusesPatternsThatMatchNothing() throws {
        let error = try #require(throws: WebhookError.self) {
            try WebhookEventFilter.validate(["auth.lockout", "break_glass.activate"])
        }
        #expect(error.code == .invalidEventFilter)
        #expect(error.message.contains("\"break_glass.activate\""))
        #expect(WebhookEventType.all.allSatisfy { error.message.contains($0) })
    }

    @Test("every type phigate sends is selected by itself, by its family and by *")
    func everySentTypeIsSubscribable() throws {
        for type in WebhookEventType.all {
            let family = String(type[..<type.firstIndex(of: ".")!]) + ".*"
            try WebhookEventFilter.validate([type, family, WebhookEventFilter.everything])
        }
    }

    @Test func filtersRoundTripThroughStorage() {
        let patterns: Set = ["review.*", "auth.lockout", "*"]
        let stored = WebhookEventFilter.encode(patterns)
        #expect(stored == "* auth.lockout review.*")
        #expect(WebhookEventFilter.decode(stored) == patterns)
    }
}
