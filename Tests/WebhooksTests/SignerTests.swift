import Crypto
import Testing

@testable import Webhooks

@Suite("Standard Webhooks signatures and secrets")
struct SignerTests {
    /// The vector the Standard Webhooks reference libraries test against (their Go
    /// library's TestWebhookSign); recomputed independently with Python's hmac module.
    @Test func signsTheReferenceVector() throws {
        let secret = try WebhookSecret(parsing: Signatures.specSecret)
        let signature = WebhookSigner.sign(
            id: Signatures.specID, timestamp: Signatures.specTimestamp,
            body: Array(Signatures.specPayload.utf8), secret: secret)
        #expect(signature == Signatures.specSignature)
    }

    struct VerifyCase: CustomTestStringConvertible, Sendable {
        let name: String
        let id: String
        let timestamp: Int64
        let body: String
        let header: String
        let valid: Bool
        var testDescription: String { name }
    }

    static let other = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="

    static let verifyCases: [VerifyCase] = [
        VerifyCase(
            name: "reference", id: Signatures.specID, timestamp: Signatures.specTimestamp,
            body: Signatures.specPayload, header: Signatures.specSignature, valid: true),
        VerifyCase(
            name: "one byte of body changed", id: Signatures.specID,
            timestamp: Signatures.specTimestamp, body: #"{"test": 2432232315}"#,
            header: Signatures.specSignature, valid: false),
        VerifyCase(
            name: "other id", id: "msg_p5jXN8AQM9LWM0D4loKWxJeK",
            timestamp: Signatures.specTimestamp, body: Signatures.specPayload,
            header: Signatures.specSignature, valid: false),
        VerifyCase(
            name: "other timestamp", id: Signatures.specID,
            timestamp: Signatures.specTimestamp + 1, body: Signatures.specPayload,
            header: Signatures.specSignature, valid: false),
        VerifyCase(
            name: "rotation list with the valid one third", id: Signatures.specID,
            timestamp: Signatures.specTimestamp, body: Signatures.specPayload,
            header: other + " v2,abc " + Signatures.specSignature + " " + other, valid: true),
        VerifyCase(
            name: "right bytes under another version", id: Signatures.specID,
            timestamp: Signatures.specTimestamp, body: Signatures.specPayload,
            header: "v1a," + Signatures.specSignature.dropFirst(3), valid: false),
        VerifyCase(
            name: "bare base64 without version", id: Signatures.specID,
            timestamp: Signatures.specTimestamp, body: Signatures.specPayload,
            header: String(Signatures.specSignature.dropFirst(3)), valid: false),
        VerifyCase(
            name: "truncated signature", id: Signatures.specID,
            timestamp: Signatures.specTimestamp, body: Signatures.specPayload,
            header: String(Signatures.specSignature.dropLast(2)), valid: false),
        VerifyCase(
            name: "empty header", id: Signatures.specID, timestamp: Signatures.specTimestamp,
            body: Signatures.specPayload, header: "", valid: false),
    ]

    @Test(arguments: verifyCases)
    func verifies(_ testCase: VerifyCase) throws {
        let secret = try WebhookSecret(parsing: Signatures.specSecret)
        let result = WebhookSigner.verify(
            id: testCase.id, timestamp: testCase.timestamp, body: Array(testCase.body.utf8),
            secret: secret, signatureHeader: testCase.header)
        #expect(result == testCase.valid)
    }

    @Test(arguments: [
        (Int64(0), true), (300, true), (-300, true), (301, false), (-301, false),
    ])
    func enforcesTheTimestampTolerance(skew: Int64, valid: Bool) throws {
        let secret = try WebhookSecret(parsing: Signatures.specSecret)
        let result = WebhookSigner.verify(
            id: Signatures.specID, timestamp: Signatures.specTimestamp,
            body: Array(Signatures.specPayload.utf8), secret: secret,
            signatureHeader: Signatures.specSignature, now: Signatures.specTimestamp + skew)
        #expect(result == valid)
    }

    @Test func anotherSecretDoesNotVerify() throws {
        let result = WebhookSigner.verify(
            id: Signatures.specID, timestamp: Signatures.specTimestamp,
            body: Array(Signatures.specPayload.utf8), secret: .generate(),
            signatureHeader: Signatures.specSignature)
        #expect(!result)
    }

    static let base64Of23 = Base64.encode([UInt8](repeating: 7, count: 23))
    static let base64Of64 = Base64.encode([UInt8](repeating: 7, count: 64))
    static let base64Of65 = Base64.encode([UInt8](repeating: 7, count: 65))

    /// (text, decoded byte count or nil when it must be refused)
    static let secretCases: [(String, Int?)] = [
        (Signatures.specSecret, 24),
        ("whsec_" + base64Of64, 64),
        ("whsec_" + base64Of23, nil),
        ("whsec_" + base64Of65, nil),
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", nil),
        ("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", nil),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ", nil),
        ("whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw", nil),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", nil),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=", nil),
        ("whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", 32),
        ("whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwd=", nil),
        ("whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc", nil),
        ("whsec_", nil),
        ("", nil),
    ]

    @Test(arguments: secretCases)
    func parsesSecretsStrictly(text: String, byteCount: Int?) {
        let result = Result { () throws(WebhookError) in try WebhookSecret(parsing: text) }
        switch result {
        case .success(let parsed):
            #expect(parsed.bytes.count == byteCount)
            #expect(parsed.text == text)
        case .failure(let error):
            #expect(byteCount == nil && error.code == .invalidSecret)
        }
    }

    @Test func refusalsNeverEchoTheSecret() {
        let text = "whsec_" + Self.base64Of23
        #expect {
            try WebhookSecret(parsing: text)
        } throws: { error in
            let webhookError = error as? WebhookError
            return webhookError?.code == .invalidSecret
                && !(webhookError?.description.contains(Self.base64Of23) ?? true)
        }
    }

    @Test func generatedSecretsRoundTripAndHideInDescriptions() throws {
        let secret = WebhookSecret.generate()
        #expect(secret.bytes.count == 32)
        #expect(try WebhookSecret(parsing: secret.text) == secret)
        #expect(!"\(secret)".contains(secret.text.dropFirst(6)))
        #expect(secret.fingerprint.hasPrefix("sha256:"))
        #expect(secret.fingerprint.count == 7 + 16)
        #expect(secret != WebhookSecret.generate())
    }

    /// sha256("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") starts with these 8 bytes
    /// (`printf %s whsec_… | sha256sum`).
    @Test func fingerprintMatchesSha256sumOfTheText() throws {
        let secret = try WebhookSecret(parsing: Signatures.specSecret)
        #expect(secret.fingerprint == "sha256:" + Self.specFingerprintHex)
    }

    static let specFingerprintHex = "96ad2ccd81462a76"
}
