/// The event type names phigate sends, as constants for the modules that raise them.
///
/// A type is a dot-separated list of `[A-Za-z0-9_]` segments, as Standard Webhooks recommends;
/// the receiver uses it to pick the schema of `data`.
public enum WebhookEventType {
    public static let breakGlassActivated = "break_glass.activated"
    public static let breakGlassEnded = "break_glass.ended"
    public static let reviewCompleted = "review.completed"
    public static let reviewOverdue = "review.overdue"
    public static let authLockout = "auth.lockout"
    public static let accessDeniedBurst = "access.denied_burst"
    public static let auditCheckpoint = "audit.checkpoint"
    public static let auditVerifyFailed = "audit.verify_failed"

    /// Every type above: the one list that subscriber filters are checked against, so a type
    /// raised anywhere in phigate must be added here.
    public static let all: [String] = [
        breakGlassActivated, breakGlassEnded, reviewCompleted, reviewOverdue, authLockout,
        accessDeniedBurst, auditCheckpoint, auditVerifyFailed,
    ]
}

/// Which event types a subscriber receives, and the grammar of types and filters.
///
/// A filter is a set of patterns, each one of:
/// - `*`: every event;
/// - an exact type, `break_glass.activated`;
/// - a family, `break_glass.*`: every type whose leading segments are `break_glass`.
///
/// Every pattern must match at least one of the types phigate sends
/// (``WebhookEventType/all``): a misspelt type or family would otherwise be accepted and
/// silently receive nothing, which for a security alert is the worst way to fail.
public enum WebhookEventFilter {
    /// The pattern that matches every event.
    public static let everything = "*"
    /// The longest type or pattern accepted, in bytes.
    public static let maximumLength = 128
    /// The most patterns one subscriber may list.
    public static let maximumPatternCount = 64

    /// Whether `type` is a well-formed event type name.
    public static func isValidType(_ type: String) -> Bool {
        guard !type.isEmpty, type.utf8.count <= maximumLength else {
            return false
        }
        return type.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0.utf8.allSatisfy(isNameByte)
        }
    }

    /// Whether `pattern` is `*`, a valid type, or a valid type followed by `.*`.
    public static func isValidPattern(_ pattern: String) -> Bool {
        if pattern == everything {
            return true
        }
        if pattern.hasSuffix(".*") {
            return isValidType(String(pattern.dropLast(2)))
        }
        return isValidType(pattern)
    }

    /// Whether `pattern` selects at least one type in ``WebhookEventType/all``.
    public static func matchesKnownType(_ pattern: String) -> Bool {
        WebhookEventType.all.contains { matches([pattern], type: $0) }
    }

    /// Checks a whole filter; throws `.invalidEventFilter` naming the first bad pattern.
    ///
    /// A pattern outside the grammar is described by its length only, since it may hold
    /// anything. A well-formed pattern that matches none of the types phigate sends is
    /// named, as it holds only `[A-Za-z0-9_.*]`, and the message lists the known types.
    public static func validate(_ patterns: Set<String>) throws(WebhookError) {
        guard !patterns.isEmpty else {
            throw WebhookError(.invalidEventFilter, "a subscriber needs at least one event")
        }
        guard patterns.count <= maximumPatternCount else {
            throw WebhookError(
                .invalidEventFilter, "a subscriber may list at most \(maximumPatternCount) events")
        }
        for pattern in patterns.sorted() where !isValidPattern(pattern) {
            // A pattern that fails the grammar may be anything; only its length is shown.
            throw WebhookError(
                .invalidEventFilter,
                "an event pattern of \(pattern.utf8.count) bytes is not *, a type or type.*")
        }
        for pattern in patterns.sorted() where !matchesKnownType(pattern) {
            throw WebhookError(
                .invalidEventFilter,
                "the event pattern \"\(pattern)\" matches no event phigate sends; the types are "
                    + WebhookEventType.all.joined(separator: ", ") + ", or * for all")
        }
    }

    /// Whether an event of `type` goes to a subscriber with `patterns`.
    public static func matches(_ patterns: Set<String>, type: String) -> Bool {
        if patterns.contains(everything) || patterns.contains(type) {
            return true
        }
        var prefix = Substring(type)
        while let dot = prefix.lastIndex(of: ".") {
            prefix = prefix[..<dot]
            if patterns.contains(prefix + ".*") {
                return true
            }
        }
        return false
    }

    /// The stored form of a filter: its patterns sorted and joined by spaces.
    static func encode(_ patterns: Set<String>) -> String {
        patterns.sorted().joined(separator: " ")
    }

    /// The filter a stored string holds.
    static func decode(_ text: String) -> Set<String> {
        Set(text.split(separator: " ").map(String.init))
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
