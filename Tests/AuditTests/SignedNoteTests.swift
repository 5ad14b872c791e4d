import Foundation
import Crypto
import Testing

@testable import Audit

@Suite("Signed notes and checkpoints (C2SP)")
struct SignedNoteTests {
    /// The example of golang.org/x/mod/sumdb/note, the reference implementation of C2SP
    /// signed notes: a signer key (0x01 || Ed25519 seed), its verifier key and the note it
    /// produces. Ed25519 is deterministic, so signing the text must give this exact note.
    enum GoVector {
        static let signerKey =
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
        static let verifierKey =
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        static let signature =
            "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        static let text =
            "If you think cryptography is the answer to your problem,\n"
            + "then you don't know what your problem is.\n"
        static let note =
            text + "\n"
            + "\u{2014} PeterNeumann " + signature + "\n"

        static func privateKey() throws -> Ed25519PrivateKey {
            let material = try #require(signerKey.split(separator: "+", maxSplits: 4).last)
            let decoded = try #require(Base64.decode(String(material)))
            #expect(decoded.first == 0x01)
            return try Ed25519PrivateKey(rawSeed: Array(decoded.dropFirst()))
        }
    }

    @Test("the Go reference key gives the published verifier key and note, byte for byte")
    func goVector() throws {
        let key = try GoVector.privateKey()
        let name = "PeterNeumann"
        let verifierKey = SignedNote.verifierKey(keyName: name, publicKey: key.publicKey)
        #expect(verifierKey == GoVector.verifierKey)
        #expect(Hex.encode(SignedNote.keyID(keyName: name, publicKey: key.publicKey)) == "c74f20a3")
        let note = try SignedNote.sign(text: GoVector.text, keyName: name, privateKey: key)
        #expect(note == GoVector.note)
        let parsed = try #require(SignedNote.parseVerifierKey(GoVector.verifierKey))
        #expect(parsed.keyName == "PeterNeumann")
        #expect(parsed.publicKey == key.publicKey)
        let text = SignedNote.verify(
            text: GoVector.note, publicKey: parsed.publicKey, keyName: name)
        #expect(text == GoVector.text)
    }

    /// A well-formed signature line of the same text by a key the verifier does not know.
    static let unknownSignature: String = {
        // Signing a valid text with a valid name cannot fail.
        let note = try! SignedNote.sign(
            text: GoVector.text, keyName: "EnochRoot", privateKey: Samples.otherKey.privateKey)
        return String(note.dropFirst(GoVector.text.count + 1))
    }()

    /// The Go note with the first `target` replaced by `replacement`.
    static func edit(_ target: String, with replacement: String) -> String {
        GoVector.note.replacingFirst(target, with: replacement)
    }

    /// Variations of the Go note and whether the PeterNeumann key must accept them.
    static let noteVariants: [(String, String, Bool)] = [
        ("the note itself", GoVector.note, true),
        ("an unknown key's signature is ignored", GoVector.note + unknownSignature, true),
        ("only an unknown key's signature", GoVector.text + "\n" + unknownSignature, false),
        ("a changed text", edit("cryptography", with: "cryptographY"), false),
        ("a hyphen instead of the em dash", edit("\u{2014}", with: "-"), false),
        ("no blank line", edit("is.\n\n", with: "is.\n"), false),
        ("no final newline", String(GoVector.note.dropLast()), false),
        ("a truncated signature", edit("JnAM=", with: "Jn=="), false),
        ("another name with the same key", edit("PeterNeumann ", with: "Peter "), false),
        ("a control character in the text", edit("answer", with: "ans\u{07}wer"), false),
        ("a line that is not a signature", GoVector.note + "trailer\n", false),
    ]

    @Test("verification accepts the note and refuses every alteration", arguments: noteVariants)
    func variants(name: String, note: String, accepted: Bool) throws {
        let key = try GoVector.privateKey().publicKey
        if name != "the note itself" {
            #expect(note != GoVector.note)
        }
        let text = SignedNote.verify(text: note, publicKey: key, keyName: "PeterNeumann")
        #expect((text != nil) == accepted)
    }

    @Test("a note does not verify under another key")
    func wrongKey() throws {
        let note = try SignedNote.sign(
            text: "hello\n", keyName: Samples.signingKey.keyName,
            privateKey: Samples.signingKey.privateKey)
        let name = "phigate.test/audit"
        let right = Samples.signingKey.publicKey
        let wrong = Samples.otherKey.publicKey
        #expect(SignedNote.verify(text: note, publicKey: right, keyName: name) == "hello\n")
        #expect(SignedNote.verify(text: note, publicKey: wrong, keyName: name) == nil)
    }

    @Test(
        "texts and key names outside the note format are refused when signing",
        arguments: [
            ("no newline", "phigate"), ("a\u{01}\n", "phigate"), ("ok\n", "two words"),
            ("ok\n", "a+b"), ("ok\n", ""),
        ])
    func signRefuses(text: String, keyName: String) {
        #expect(throws: AuditError.self) {
            let key = Samples.signingKey.privateKey
            return try SignedNote.sign(text: text, keyName: keyName, privateKey: key)
        }
    }

    static let headHash = (0..<32).map { UInt8($0) }

    @Test("a checkpoint body has origin, size, base64 head and the time line")
    func checkpointBody() {
        let body = Checkpoint.body(
            origin: "phigate.local/audit", size: 300, headHash: Self.headHash,
            signedAt: 1_700_000_000_123)
        let expected =
            "phigate.local/audit\n300\n"
            + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" + "time 1700000000123\n"
        #expect(body == expected)
    }

    @Test("a signed checkpoint parses back under its key and fails under another")
    func checkpointRoundTrip() throws {
        let key = Samples.signingKey
        let checkpoint = try Checkpoint.sign(
            origin: "phigate.test/audit", size: 42, headHash: Self.headHash, signedAt: 99,
            keyName: key.keyName, key: key.privateKey)
        #expect(checkpoint.signedNote.hasPrefix("phigate.test/audit\n42\n"))
        #expect(checkpoint.signedNote.contains("\n\n\u{2014} phigate.test/audit "))
        let note = checkpoint.signedNote
        #expect(try Checkpoint.parse(signedNote: note, publicKey: key.publicKey) == checkpoint)
        let error = try #require(throws: AuditError.self) {
            try Checkpoint.parse(signedNote: note, publicKey: Samples.otherKey.publicKey)
        }
        #expect(error.code == .badSignature)
    }

    @Test(
        "line ends changed by a copy are undone, and nothing else is",
        arguments: [
            (GoVector.note + "\n\n", GoVector.note),
            (String(GoVector.note.dropLast()), GoVector.note),
            (GoVector.note.replacingOccurrences(of: "\n", with: "\r\n"), GoVector.note),
            (GoVector.note.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n", GoVector.note),
            (GoVector.note, GoVector.note),
            ("\n\n" + GoVector.note, GoVector.note),  // blank lines pasted before the text
            ("\r\n" + GoVector.note.replacingOccurrences(of: "\n", with: "\r\n"), GoVector.note),
            (" \n" + GoVector.note, " \n" + GoVector.note),  // a line with a space is not blank
            ("a\rb\n", "a\rb\n"),  // a bare CR is left for verify to refuse
            ("a \n\n", "a \n"),  // trailing spaces are not line ends
            ("\n\n", ""),
        ])
    func lineEnds(input: String, expected: String) throws {
        #expect(SignedNote.normalizingLineEnds(input) == expected)
        let key = try GoVector.privateKey()
        if expected == GoVector.note {
            let normalized = SignedNote.normalizingLineEnds(input)
            #expect(SignedNote.verify(text: normalized, publicKey: key.publicKey, keyName: "PeterNeumann") != nil)
        }
    }

    @Test("a checkpoint that is not in signed-note form is malformed, not badly signed")
    func malformedNote() throws {
        let key = Samples.signingKey
        let note = try Checkpoint.sign(
            origin: "phigate.test/audit", size: 42, headHash: Self.headHash, signedAt: 99,
            keyName: key.keyName, key: key.privateKey
        ).signedNote
        let broken = [
            String(note.dropLast()), note + "\n", note.replacingFirst("\n\n", with: "\n"),
            note.replacingFirst("\n", with: "\r\n"),
        ]
        for text in broken {
            let error = try #require(throws: AuditError.self) {
                try Checkpoint.parse(signedNote: text, publicKey: key.publicKey)
            }
            #expect(error.code == .malformedNote)
        }
    }

    @Test("the tlog-checkpoint example body parses; it has no phigate time line")
    func c2spExample() throws {
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let fields = try Checkpoint.parse(body: body)
        #expect(fields.origin == "example.com/behind-the-sofa")
        #expect(fields.size == 20_852_163)
        #expect(Base64.encode(fields.headHash) == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
        #expect(fields.signedAt == nil)
    }

    @Test(
        "malformed checkpoint bodies are refused",
        arguments: [
            "origin\n300\n",  // two lines
            "origin\n0300\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  // a leading zero
            "origin\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  // a sign
            "origin\n3\nAAECAwQ=\n",  // not 32 bytes
            "origin\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",  // unpadded
            "\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  // an empty origin
            "origin\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",  // an empty extension
            "origin\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ntime 01\n",  // a bad time
            "origin\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  // no final newline
        ])
    func malformedBodies(body: String) {
        let error = #expect(throws: AuditError.self) { try Checkpoint.parse(body: body) }
        #expect(error?.code == .malformedCheckpoint)
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced (unchanged if absent).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else {
            return self
        }
        return replacingCharacters(in: range, with: replacement)
    }
}
