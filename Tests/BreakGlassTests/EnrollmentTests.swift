import Auth
import Crypto
import Store
import Testing

@testable import BreakGlass

@Suite("Second factor: provisioning and confirmation")
struct EnrollmentTests {
    typealias F = BreakGlassFixture
    let t0 = F.t0

    /// Account names as stored, and the label their URI carries.
    static let labels: [(String, String)] = [
        ("carol", "phigate:carol"),
        ("dr.who@ward-5", "phigate:dr.who%40ward-5"),
        ("a_b.c-d", "phigate:a_b.c-d"),
    ]

    @Test("the otpauth URI names the account and the code parameters", arguments: labels)
    func uri(name: String, label: String) throws {
        let secret = try #require(Base32.decode("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
        #expect(
            SecondFactor.otpauthURI(username: name, secret: secret)
                == "otpauth://totp/" + label + "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                + "&issuer=phigate&algorithm=SHA1&digits=6&period=30")
    }

    @Test("provisioning stores a fresh unconfirmed 20-byte secret; confirming enrols")
    func provisionAndConfirm() throws {
        let fixture = try F()
        let enrollment = try fixture.factor.provision(" Carol ")
        let secret = try #require(Base32.decode(enrollment.secretBase32))
        #expect(secret.count == 20)
        #expect(
            enrollment.otpauthURI
                == SecondFactor.otpauthURI(username: "carol", secret: secret))
        #expect(!"\(enrollment)".contains(enrollment.secretBase32))
        let state = try #require(try fixture.identities.storedTOTP("carol", encryptionKey: F.key))
        #expect(state.secret == secret && !state.confirmed)
        #expect(try fixture.identities.account("carol")?.totpEnrolled == false)

        let again = try fixture.factor.provision("carol")
        #expect(again.secretBase32 != enrollment.secretBase32)
        let newSecret = try #require(Base32.decode(again.secretBase32))

        let code = SecondFactor.code(secret: newSecret, step: SecondFactor.step(at: t0))
        let wrong = SecondFactor.code(secret: secret, step: SecondFactor.step(at: t0))
        if wrong != code {
            let old = try #require(throws: BreakGlassError.self) {
                try fixture.factor.confirm("carol", code: wrong, now: t0)
            }
            #expect(old.code == .wrongCode)
        }
        #expect(try fixture.factor.confirm("carol", code: code, now: t0) == 60_000_000)
        #expect(try fixture.identities.account("carol")?.totpEnrolled == true)
        let reused = try #require(throws: BreakGlassError.self) {
            try fixture.factor.verify("carol", code: code, now: t0 + 1)
        }
        #expect(reused.code == .replayed)
        let next = SecondFactor.code(secret: newSecret, step: SecondFactor.step(at: t0) + 1)
        #expect(try fixture.factor.verify("carol", code: next, now: t0 + 30) == 60_000_001)
    }

    @Test("a confirmed secret is replaced only when asked to")
    func replacingConfirmed() throws {
        let fixture = try F()
        let error = try #require(throws: BreakGlassError.self) {
            try fixture.factor.provision("alice")
        }
        #expect(error.code == .alreadyEnrolled)
        let state = try fixture.identities.storedTOTP("alice", encryptionKey: F.key)
        #expect(state?.secret == F.secret && state?.confirmed == true)

        let replaced = try fixture.factor.provision("alice", issuer: .administrator)
        let after = try fixture.identities.storedTOTP("alice", encryptionKey: F.key)
        #expect(after?.secret == Base32.decode(replaced.secretBase32))
        #expect(after?.confirmed == false)
        let unconfirmed = try #require(throws: BreakGlassError.self) {
            try fixture.factor.verify("alice", code: F.code(at: t0), now: t0)
        }
        #expect(unconfirmed.code == .notEnrolled)
    }

    @Test("self-enrolment does not replace a secret an administrator issued")
    func administratorIssuedSecretStays() throws {
        let fixture = try F()
        let issued = try fixture.factor.provision("carol", issuer: .administrator)
        let issuedSecret = try #require(Base32.decode(issued.secretBase32))
        let refused = try #require(throws: BreakGlassError.self) {
            try fixture.factor.provision("carol")
        }
        #expect(refused.code == .issuedByAdministrator)
        let state = try #require(try fixture.identities.storedTOTP("carol", encryptionKey: F.key))
        #expect(state.secret == issuedSecret && !state.confirmed && state.issuedByAdministrator)

        let code = SecondFactor.code(secret: issuedSecret, step: SecondFactor.step(at: t0))
        try fixture.factor.confirm("carol", code: code, now: t0)
        let confirmed = try #require(throws: BreakGlassError.self) {
            try fixture.factor.provision("carol")
        }
        #expect(confirmed.code == .alreadyEnrolled)
    }

    @Test("an administrator replaces a self-enrolled pending secret, which then stays")
    func administratorReplacesSelfEnrolled() throws {
        let fixture = try F()
        let own = try fixture.factor.provision("carol")
        let ownState = try fixture.identities.storedTOTP("carol", encryptionKey: F.key)
        #expect(ownState?.issuedByAdministrator == false)
        let issued = try fixture.factor.provision("carol", issuer: .administrator)
        #expect(issued.secretBase32 != own.secretBase32)
        let refused = try #require(throws: BreakGlassError.self) {
            try fixture.factor.provision("carol")
        }
        #expect(refused.code == .issuedByAdministrator)
        let state = try fixture.identities.storedTOTP("carol", encryptionKey: F.key)
        #expect(state?.secret == Base32.decode(issued.secretBase32))
    }

    @Test("provisioning an unknown account fails")
    func unknownAccount() throws {
        let fixture = try F()
        let error = try #require(throws: BreakGlassError.self) {
            try fixture.factor.provision("ghost")
        }
        #expect(error.code == .unknownUser)
    }
}
