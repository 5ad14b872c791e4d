extension AuditCanonicalEncoder {
    /// The entry that `bytes` encode.
    ///
    /// Decoding is strict about types and names: every required field must be present
    /// (`seq`, `time`, `event`, `actor`, `action`, `outcome`, `status`), each field must have
    /// its type, and a member this version does not know is refused rather than dropped, so a
    /// stored entry can never hold data the verifier did not look at. It does not require
    /// canonical form; ``isCanonical(_:)`` checks that by re-encoding.
    ///
    /// Throws `.malformedEntry` naming the byte offset or the field, never its value.
    public static func decode(_ bytes: [UInt8]) throws(AuditError) -> AuditEntry {
        guard case .object(var members) = try AuditJSONReader.read(bytes) else {
            throw malformed("an entry is a JSON object")
        }
        typealias Key = AuditEntry.Key
        var entry = AuditEntry(
            seq: try integer(Key.seq, in: &members),
            time: try integer(Key.time, in: &members),
            event: try string(Key.event, in: &members),
            actor: try string(Key.actor, in: &members),
            action: try string(Key.action, in: &members),
            outcome: try string(Key.outcome, in: &members),
            status: try statusCode(in: &members))
        entry.roles = try strings(Key.roles, in: &members)
        entry.proxy = try optionalString(Key.proxy, in: &members)
        entry.rule = try optionalString(Key.rule, in: &members)
        entry.patient = try optionalString(Key.patient, in: &members)
        entry.resources = try strings(Key.resources, in: &members)
        entry.purpose = try optionalString(Key.purpose, in: &members)
        entry.grant = try optionalString(Key.grant, in: &members)
        entry.reason = try optionalString(Key.reason, in: &members)
        entry.justification = try optionalString(Key.justification, in: &members)
        entry.requestID = try optionalString(Key.requestID, in: &members)
        entry.client = try optionalString(Key.client, in: &members)
        entry.userAgent = try optionalString(Key.userAgent, in: &members)
        entry.details = try details(in: &members)
        guard members.isEmpty else {
            throw malformed("\(members.count) unknown member(s)")
        }
        return entry
    }

    private static func malformed(_ message: String) -> AuditError {
        AuditError(.malformedEntry, operation: "decode", message: message)
    }

    private static func integer(
        _ key: String, in members: inout [String: AuditJSON]
    ) throws(AuditError) -> Int64 {
        guard case .integer(let value) = members.removeValue(forKey: key) else {
            throw malformed("'\(key)' must be an integer")
        }
        return value
    }

    private static func statusCode(
        in members: inout [String: AuditJSON]
    ) throws(AuditError) -> Int {
        Int(try integer(AuditEntry.Key.status, in: &members))
    }

    private static func string(
        _ key: String, in members: inout [String: AuditJSON]
    ) throws(AuditError) -> String {
        guard case .string(let value) = members.removeValue(forKey: key) else {
            throw malformed("'\(key)' must be a string")
        }
        return value
    }

    private static func optionalString(
        _ key: String, in members: inout [String: AuditJSON]
    ) throws(AuditError) -> String? {
        guard let value = members.removeValue(forKey: key) else {
            return nil
        }
        guard case .string(let text) = value else {
            throw malformed("'\(key)' must be a string")
        }
        return text
    }

    private static func strings(
        _ key: String, in members: inout [String: AuditJSON]
    ) throws(AuditError) -> [String] {
        guard let value = members.removeValue(forKey: key) else {
            return []
        }
        guard case .array(let elements) = value else {
            throw malformed("'\(key)' must be an array of strings")
        }
        var texts: [String] = []
        for element in elements {
            guard case .string(let text) = element else {
                throw malformed("'\(key)' must be an array of strings")
            }
            texts.append(text)
        }
        return texts
    }

    private static func details(
        in members: inout [String: AuditJSON]
    ) throws(AuditError) -> [String: String] {
        let key = AuditEntry.Key.details
        guard let value = members.removeValue(forKey: key) else {
            return [:]
        }
        guard case .object(let fields) = value else {
            throw malformed("'\(key)' must be an object of strings")
        }
        var texts: [String: String] = [:]
        for (name, field) in fields {
            guard case .string(let text) = field else {
                throw malformed("'\(key)' must be an object of strings")
            }
            texts[name] = text
        }
        return texts
    }
}
