import Audit
import Crypto
import Foundation
import Testing
import Webhooks

@testable import App

/// The `audit.checkpoint` event: what it carries, and an id that names one checkpoint of one
/// log, so that raising it again at start-up can never send it twice.
@Suite("Checkpoint alerts")
struct CheckpointAlertsTests {
    static let key = Result { try Ed25519PrivateKey.generate() }

    static func checkpoint(origin: String = "phigate.test/audit", size: Int64, head: UInt8) throws -> Checkpoint {
        try Checkpoint.sign(
            origin: origin, size: size, headHash: [UInt8](repeating: head, count: 32), signedAt: 1_700_000_123_456,
            keyName: "phigate.test/audit", key: try key.get())
    }

    @Test("the event carries the checkpoint, stamped with the second it was signed")
    func payload() throws {
        let checkpoint = try Self.checkpoint(size: 42, head: 7)
        let event = try CheckpointAlerts.event(for: checkpoint)
        #expect(event.type == "audit.checkpoint")
        #expect(event.timestamp == 1_700_000_123)
        let data = try #require(try JSONSerialization.jsonObject(with: Data(event.payload)) as? [String: Any])
        #expect(data["size"] as? Int == 42)
        #expect(data["head_hash"] as? String == Base64.encode([UInt8](repeating: 7, count: 32)))
        #expect(data["signed_at"] as? Int == 1_700_000_123_456)
        #expect(data["signed_note"] as? String == checkpoint.signedNote)
    }

    @Test("the id is the same for the same checkpoint and differs when origin, size or head differ")
    func identity() throws {
        let id = try CheckpointAlerts.event(for: Self.checkpoint(size: 42, head: 7)).id
        #expect(id.hasPrefix("msg_") && id.count == 28)
        #expect(try CheckpointAlerts.event(for: Self.checkpoint(size: 42, head: 7)).id == id)
        let others = try [
            Self.checkpoint(size: 43, head: 7), Self.checkpoint(size: 42, head: 8),
            Self.checkpoint(origin: "other.test/audit", size: 42, head: 7),
        ].map { try CheckpointAlerts.event(for: $0).id }
        #expect(Set(others + [id]).count == 4)
    }
}
