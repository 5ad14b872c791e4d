/// The failure budget of the break-glass second factor.
///
/// Guessing a six-digit code with three steps accepted succeeds with probability 3 in a
/// million per try; five tries per window and a lockout that doubles keep an attacker who
/// holds a session (but not the authenticator) far from that. The budget is separate from
/// the login lockout: a wrong code does not lock the account out of its other work.
public struct SecondFactorPolicy: Sendable, Equatable {
    /// This many wrong codes inside the window lock the factor.
    public var maxFailures: Int = 5
    /// The sliding window in which wrong codes are counted.
    public var failureWindowSeconds: Int64 = 900
    /// The first lockout lasts this long; each following one twice the one before.
    public var firstLockoutSeconds: Int64 = 300
    /// No lockout lasts longer than this.
    public var maximumLockoutSeconds: Int64 = 3600
    /// A lockout that ended longer ago than this no longer makes the next one longer.
    public var lockoutMemorySeconds: Int64 = 86_400

    public init() {}

    /// Throws `.invalidPolicy` naming the first field that is out of range.
    public func validate() throws(BreakGlassError) {
        let checks: [(Bool, String)] = [
            (maxFailures > 0, "maxFailures must be positive"),
            (failureWindowSeconds > 0, "failureWindowSeconds must be positive"),
            (firstLockoutSeconds > 0, "firstLockoutSeconds must be positive"),
            (
                maximumLockoutSeconds >= firstLockoutSeconds,
                "maximumLockoutSeconds must be at least firstLockoutSeconds"
            ),
            (lockoutMemorySeconds >= 0, "lockoutMemorySeconds must not be negative"),
        ]
        for (valid, message) in checks where !valid {
            throw BreakGlassError(.invalidPolicy, message)
        }
    }

    /// How long the `level`-th successive lockout lasts (level 1 is the first):
    /// `firstLockoutSeconds * 2^(level - 1)`, capped at `maximumLockoutSeconds`.
    public func lockoutSeconds(level: Int) -> Int64 {
        var seconds = firstLockoutSeconds
        var remaining = max(level, 1) - 1
        while remaining > 0, seconds < maximumLockoutSeconds {
            seconds *= 2
            remaining -= 1
        }
        return min(seconds, maximumLockoutSeconds)
    }
}
