import Crypto
import Foundation
import Support

/// One alert to send: what happened (`type`), when (`timestamp`), and the facts (`payload`).
///
/// `id` is the Standard Webhooks message id (`webhook-id`): the same on every attempt, for
/// every subscriber and across restarts, so that a receiver can deduplicate. The payload is
/// the JSON object the raising module wrote; it becomes the `data` member of the message
/// body and must carry ids only, never PHI: receivers are chat tools and SIEMs.
public struct WebhookEvent: Sendable, Equatable {
    /// The largest payload accepted. Standard Webhooks recommends staying under 20 kB.
    public static let maximumPayloadBytes = 65_536
    /// The prefix of every event id.
    public static let idPrefix = "msg_"
    /// Random bytes in a generated id: 192 bits, unguessable and without collisions.
    static let idRandomByteCount = 24

    /// `msg_` + base64url; never contains a `.`, which the signature scheme requires.
    public let id: String
    /// A dot-separated type, such as `break_glass.activated`.
    public let type: String
    /// When the event happened, in Unix seconds (not when it is delivered).
    public let timestamp: Int64
    /// The JSON object that becomes `data`, byte for byte.
    public let payload: [UInt8]

    /// A new event with a fresh random id.
    ///
    /// Throws `.invalidEventType` for a malformed type and `.invalidPayload` when `payload` is
    /// not a single JSON object or is larger than ``maximumPayloadBytes``.
    public init(type: String, timestamp: Int64, payload: [UInt8]) throws(WebhookError) {
        let id = Self.idPrefix + Base64URL.encode(SecureRandom.bytes(Self.idRandomByteCount))
        try self.init(id: id, type: type, timestamp: timestamp, payload: payload)
    }

    /// An event with a given id, for an event that must keep an id chosen earlier.
    ///
    /// Throws `.invalidEventID` unless `id` is `msg_` + 16 to 64 base64url characters.
    public init(id: String, type: String, timestamp: Int64, payload: [UInt8])
        throws(WebhookError)
    {
        guard Self.isValidID(id) else {
            throw WebhookError(.invalidEventID, "an event id must be msg_ + base64url")
        }
        guard WebhookEventFilter.isValidType(type) else {
            throw WebhookError(.invalidEventType, "the event type is not a dotted name")
        }
        try Self.validatePayload(payload)
        self.id = id
        self.type = type
        self.timestamp = timestamp
        self.payload = payload
    }

    /// The HTTP body sent to every subscriber:
    /// `{"type":…,"timestamp":"<RFC 3339 UTC>","data":<payload>}`.
    ///
    /// The outbox stores these bytes once, so every attempt sends, and signs, exactly the same
    /// body.
    public var messageBody: [UInt8] {
        var head = "{\"type\":"
        JSONText.appendString(type, to: &head)
        head += ",\"timestamp\":\"" + WallClock.iso8601(unixSeconds: timestamp) + "\",\"data\":"
        var body = Array(head.utf8)
        body.reserveCapacity(body.count + payload.count + 1)
        body.append(contentsOf: payload)
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// Whether `id` has the shape of an event id this module would make.
    public static func isValidID(_ id: String) -> Bool {
        guard id.hasPrefix(idPrefix) else {
            return false
        }
        let rest = id.utf8.dropFirst(idPrefix.utf8.count)
        return (16...64).contains(rest.count) && rest.allSatisfy(isBase64URLByte)
    }

    private static func validatePayload(_ payload: [UInt8]) throws(WebhookError) {
        guard payload.count <= maximumPayloadBytes else {
            throw WebhookError(
                .invalidPayload, "the payload is larger than \(maximumPayloadBytes) bytes")
        }
        // The parser's error would quote the payload, so only the fact of failure is kept.
        let parsed = try? JSONSerialization.jsonObject(with: Data(payload))
        guard parsed is [String: Any] else {
            throw WebhookError(.invalidPayload, "the payload must be one JSON object")
        }
    }

    private static func isBase64URLByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
