import Foundation

/// The one spelling of an account name that phigate stores, compares and logs.
///
/// Every name that enters the module (adding an account, logging in, naming an account in an
/// administrative command, `X-On-Behalf-Of`) passes through ``canonical(_:)`` first, so that
/// "Alice", " alice " and "ＡＬＩＣＥ" are one account and share one lockout budget.
public enum Username {
    /// The longest canonical name.
    public static let maximumLength = 64
    /// Input longer than this many UTF-8 bytes is refused before any Unicode processing, so
    /// that a hostile megabyte of text costs nothing.
    static let maximumInputBytes = 1024

    /// The canonical form of `raw`, or nil when it has none.
    ///
    /// The steps: Unicode NFKC (so compatibility forms such as full-width letters become
    /// their ASCII letters), trimming of surrounding characters with the Unicode White_Space
    /// property (spaces, tabs, newlines; not zero-width characters), lowercasing.
    /// The result must then be 1 to 64 characters of `[a-z0-9._@-]` beginning with a letter
    /// or digit. Anything else is refused rather than mapped: lookalike letters from other
    /// scripts (Cyrillic "а", Greek "ο"), control characters, inner spaces, and the
    /// characters that would need escaping in a log line or a URL.
    public static func canonical(_ raw: String) -> String? {
        guard raw.utf8.count <= maximumInputBytes else {
            return nil
        }
        let normalized = raw.precomposedStringWithCompatibilityMapping.unicodeScalars
        let trimmed = normalized.drop(while: \.properties.isWhitespace)
            .reversed().drop(while: \.properties.isWhitespace).reversed()
        let folded = String(String.UnicodeScalarView(trimmed)).lowercased()
        let bytes = Array(folded.utf8)
        guard (1...maximumLength).contains(bytes.count), isLetterOrDigit(bytes[0]),
            bytes.allSatisfy(isAllowed)
        else {
            return nil
        }
        return folded
    }

    /// Actor names the audit log uses for requests that are not an account's: no account may
    /// take one, or its entries could not be told from them.
    public enum Reserved {
        /// A request without a valid credential.
        public static let anonymous = "anonymous"
        /// The gateway itself: start, stop, overdue reviews.
        public static let system = "phigate"
        /// A login whose name has no canonical form, or is one of these reserved names.
        public static let unreadableName = "invalid-username"

        public static let all: Set<String> = [anonymous, system, unreadableName]
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "-"):
            return true
        default:
            return isLetterOrDigit(byte)
        }
    }
}
