/// How close the server certificate is to its end, judged once at start-up so that an operator
/// reads it in the log before clients start refusing the handshake.
enum CertificateExpiry: Equatable {
    /// More than `warningDays` left.
    case valid
    /// Expires within `warningDays`; `days` is rounded down (0 means within a day).
    case expiresSoon(days: Int)
    /// Already expired, `days` ago (rounded down).
    case expired(days: Int)

    static let warningDays = 14

    init(secondsRemaining: Int) {
        if secondsRemaining <= 0 {
            self = .expired(days: -secondsRemaining / 86_400)
        } else if secondsRemaining <= Self.warningDays * 86_400 {
            self = .expiresSoon(days: secondsRemaining / 86_400)
        } else {
            self = .valid
        }
    }
}
