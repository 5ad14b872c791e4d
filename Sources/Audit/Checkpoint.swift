public import Crypto

/// A signed statement of the audit log's size and head hash at a moment: a C2SP
/// tlog-checkpoint inside a signed note.
///
/// The note text is
///
///     <origin>\n
///     <size, decimal, no leading zeros>\n
///     <base64 of the 32-byte head hash>\n
///     time <signing time, Unix milliseconds, decimal>\n
///
/// followed by the blank line and signature line of ``SignedNote``. The fourth line is a
/// tlog-checkpoint extension line: the specification leaves those opaque, and phigate uses
/// one so that the signing time is covered by the signature as well.
///
/// The "root hash" line carries the head of phigate's linear hash chain (``AuditChain``), not
/// an RFC 6962 Merkle tree root. Generic tlog tooling can check the signature and compare
/// checkpoints for equality, but cannot compute inclusion or consistency proofs from them;
/// a verifier recomputes the chain from entry 1 (``AuditVerifier``).
public struct Checkpoint: Sendable, Hashable {
    /// The log's identity, e.g. "phigate.local/audit".
    public let origin: String
    /// How many entries the log held: the head is entry `size`.
    public let size: Int64
    /// hash(size) of the chain.
    public let headHash: [UInt8]
    /// When the checkpoint was signed, in Unix milliseconds.
    public let signedAt: Int64
    /// The whole signed note as published.
    public let signedNote: String

    /// The name of the extension line that carries the signing time.
    static let timeLinePrefix = "time "

    /// The note text of a checkpoint.
    public static func body(origin: String, size: Int64, headHash: [UInt8], signedAt: Int64)
        -> String
    {
        origin + "\n" + String(size) + "\n" + Base64.encode(headHash) + "\n"
            + timeLinePrefix + String(signedAt) + "\n"
    }

    /// Signs a checkpoint of `size`/`headHash` with `key` under `keyName`.
    public static func sign(
        origin: String, size: Int64, headHash: [UInt8], signedAt: Int64,
        keyName: String, key: Ed25519PrivateKey
    ) throws(AuditError) -> Checkpoint {
        let text = body(origin: origin, size: size, headHash: headHash, signedAt: signedAt)
        let note = try SignedNote.sign(text: text, keyName: keyName, privateKey: key)
        return Checkpoint(
            origin: origin, size: size, headHash: headHash, signedAt: signedAt, signedNote: note)
    }

    /// Verifies `signedNote` and parses its text.
    ///
    /// `keyName` defaults to the note's origin line, which tlog-checkpoint recommends as the
    /// key name; the signature must verify under `publicKey` either way.
    /// Throws `.malformedNote` when `signedNote` is not in signed-note form, `.badSignature`
    /// when no valid signature from the key is present and `.malformedCheckpoint` when the
    /// signed text is not a checkpoint. The note must be exact: see
    /// ``SignedNote/normalizingLineEnds(_:)`` for one that came through a copy or a file.
    public static func parse(
        signedNote: String, publicKey: Ed25519PublicKey, keyName: String? = nil
    ) throws(AuditError) -> Checkpoint {
        guard let (unverifiedText, _) = SignedNote.split(signedNote),
            !SignedNote.containsForbiddenControl(signedNote)
        else {
            throw AuditError(
                .malformedNote, operation: "parse checkpoint", message: "not a signed note")
        }
        let origin = String(unverifiedText.prefix { $0 != "\n" })
        guard
            let text = SignedNote.verify(
                text: signedNote, publicKey: publicKey, keyName: keyName ?? origin)
        else {
            throw AuditError(
                .badSignature, operation: "parse checkpoint",
                message: "no valid signature from the audit key")
        }
        let fields = try parse(body: text)
        return Checkpoint(
            origin: fields.origin, size: fields.size, headHash: fields.headHash,
            signedAt: fields.signedAt ?? 0, signedNote: signedNote)
    }

    /// The fields of a checkpoint note text, without checking any signature.
    ///
    /// `signedAt` is nil when the text has no phigate time line (a checkpoint from other
    /// software); other extension lines are ignored, as the specification requires.
    public static func parse(
        body text: String
    ) throws(AuditError) -> (origin: String, size: Int64, headHash: [UInt8], signedAt: Int64?) {
        let malformed = { (reason: String) in
            AuditError(.malformedCheckpoint, operation: "parse checkpoint", message: reason)
        }
        guard text.hasSuffix("\n") else {
            throw malformed("the text does not end in a newline")
        }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, lines.allSatisfy({ !$0.isEmpty }) else {
            throw malformed("a checkpoint has at least three non-empty lines")
        }
        guard let size = decimal(lines[1]) else {
            throw malformed("the size is not a canonical decimal")
        }
        guard let hash = Base64.decode(String(lines[2])), hash.count == SHA256.byteCount,
            Base64.encode(hash) == lines[2]
        else {
            throw malformed("the root hash is not 32 bytes of padded base64")
        }
        var signedAt: Int64?
        for line in lines.dropFirst(3) where line.hasPrefix(timeLinePrefix) {
            guard signedAt == nil, let time = decimal(line.dropFirst(timeLinePrefix.count)) else {
                throw malformed("the time line is not a single canonical decimal")
            }
            signedAt = time
        }
        return (String(lines[0]), size, hash, signedAt)
    }

    /// A non-negative decimal without leading zeros ("0" itself allowed); nil otherwise.
    private static func decimal(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            text == "0" || !text.hasPrefix("0")
        else {
            return nil
        }
        return Int64(text)
    }
}
