import Foundation
import Testing

@testable import Store

@Suite("Served JSON")
struct ServedJSONTests {
    /// The members the splice adds.
    static let members = #""versionId":"3","lastUpdated":"2026-01-02T03:04:05.000Z""#

    static let cases: [(stored: String, served: String)] = [
        (
            #"{"resourceType":"Patient","id":"p1","gender":"male"}"#,
            #"{"resourceType":"Patient","id":"p1","meta":{"# + members + #"},"gender":"male"}"#
        ),
        (
            #"{"resourceType":"Patient","id":"p1"}"#,
            #"{"resourceType":"Patient","id":"p1","meta":{"# + members + #"}}"#
        ),
        (
            #"{"resourceType":"Patient","id":"p1","meta":{"profile":["http://x/y"]},"name":[{"family":"A"}]}"#,
            #"{"resourceType":"Patient","id":"p1","meta":{"# + members
                + #","profile":["http://x/y"]},"name":[{"family":"A"}]}"#
        ),
        (
            #"{"resourceType":"Patient","id":"p1","meta":{},"x":1}"#,
            #"{"resourceType":"Patient","id":"p1","meta":{"# + members + #"},"x":1}"#
        ),
        (
            #"{"resourceType":"Observation","id":"o1","code":{"text":"a \"meta\": {} }"},"#
                + #""meta":{"tag":[{"code":"}"}]}}"#,
            #"{"resourceType":"Observation","id":"o1","code":{"text":"a \"meta\": {} }"},"meta":{"# + members
                + #","tag":[{"code":"}"}]}}"#
        ),
        (
            #"{"resourceType":"Basic","id":"b","n":[1,2,{"meta":5}],"v":-1.5e3}"#,
            #"{"resourceType":"Basic","id":"b","meta":{"# + members + #"},"n":[1,2,{"meta":5}],"v":-1.5e3}"#
        ),
    ]

    @Test("meta members are spliced into the stored bytes", arguments: cases)
    func splice(stored: String, served: String) throws {
        let out = ServedJSON.splice(Array(stored.utf8), version: 3, lastUpdated: "2026-01-02T03:04:05.000Z")
        #expect(String(decoding: out, as: UTF8.self) == served)
        let object = try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
        let meta = object?["meta"] as? [String: Any]
        #expect(meta?["versionId"] as? String == "3")
    }
}
