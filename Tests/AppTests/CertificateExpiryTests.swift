import Testing

@testable import App

@Suite("Server certificate expiry")
struct CertificateExpiryTests {
    static let day = 86_400

    @Test(
        "seconds remaining map to valid, expiring soon or expired",
        arguments: [
            (30 * day, CertificateExpiry.valid),
            (14 * day + 1, .valid),
            (14 * day, .expiresSoon(days: 14)),
            (2 * day - 1, .expiresSoon(days: 1)),
            (1, .expiresSoon(days: 0)),
            (0, .expired(days: 0)),
            (-1, .expired(days: 0)),
            (-3 * day - 5, .expired(days: 3)),
        ])
    func assess(_ seconds: Int, _ expected: CertificateExpiry) {
        #expect(CertificateExpiry(secondsRemaining: seconds) == expected)
    }
}
