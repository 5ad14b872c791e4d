/// Standard base64 (RFC 4648 section 4), for password-hash strings and interoperation with
/// systems that expect it.
///
/// Decoding is strict: one canonical text per byte string, no whitespace, no line breaks.
public enum Base64 {
    /// The base64 text of `bytes`; padded with `=` to a multiple of four unless `padded` is
    /// false (the form PHC password-hash strings use).
    public static func encode(_ bytes: [UInt8], padded: Bool = true) -> String {
        Base64Codec.standard.encode(bytes, padded: padded)
    }

    /// The bytes `text` encodes, or nil when it is not canonical base64.
    ///
    /// Both the padded and the unpadded forms are accepted; padding, when present, must be
    /// complete and correct. Unused trailing bits must be zero.
    public static func decode(_ text: String) -> [UInt8]? {
        Base64Codec.standard.decode(text, padding: .optional)
    }
}

/// URL- and filename-safe base64 (RFC 4648 section 5) without padding, for tokens and ids that
/// travel in URLs, headers and JSON.
public enum Base64URL {
    /// The unpadded base64url text of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        Base64Codec.urlSafe.encode(bytes, padded: false)
    }

    /// The bytes `text` encodes, or nil when it is not canonical unpadded base64url
    /// (padding, `+`, `/`, whitespace and non-zero trailing bits are all refused).
    public static func decode(_ text: String) -> [UInt8]? {
        Base64Codec.urlSafe.decode(text, padding: .forbidden)
    }
}
