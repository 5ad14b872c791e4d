import Testing

@testable import App

/// The Authorization header forms the gateway accepts as a bearer credential.
@Suite("Bearer tokens")
struct BearerTokenTests {
    static let longest = String(repeating: "a", count: 512)

    static let cases: [(header: String?, token: String?)] = [
        ("Bearer abc.DEF-123_~+/=", "abc.DEF-123_~+/="),
        ("bearer t", "t"),
        ("BEARER t", "t"),
        ("BeArEr t", "t"),
        ("Bearer " + longest, longest),
        ("Bearer " + longest + "a", nil),
        (nil, nil),
        ("", nil),
        ("Bearer ", nil),
        ("Bearer", nil),
        ("Bearer  t", nil),
        ("Bearer\tt", nil),
        ("Basic dXNlcjpwYXNz", nil),
        ("Bearerx t", nil),
        ("Bearer t t", nil),
        ("Bearer t,", nil),
        ("Bearer tök", nil),
        ("Béarer t", nil),
        ("\u{212A}earer t", nil),
        ("Bearer t\u{0301}", nil),
    ]

    @Test("well-formed Bearer credentials yield their token", arguments: cases)
    func parse(header: String?, token: String?) {
        #expect(AuthenticationMiddleware.bearerToken(header) == token)
    }
}
