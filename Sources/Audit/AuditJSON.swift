/// The JSON values an audit entry can hold: no floats, booleans or nulls.
///
/// Keeping the value space this small is what lets ``AuditCanonicalEncoder`` be exact:
/// every value has one canonical text under RFC 8785, and integers stay within the range an
/// IEEE double (and so every JCS implementation) represents exactly.
public enum AuditJSON: Sendable, Hashable {
    case string(String)
    /// An integer in ``AuditCanonicalEncoder/integerRange``.
    case integer(Int64)
    case array([AuditJSON])
    /// Members by name; the encoder orders them, so the dictionary's order does not matter.
    case object([String: AuditJSON])
}
