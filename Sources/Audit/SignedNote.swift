public import Crypto

/// Ed25519 signed notes as C2SP's signed-note specification defines them.
///
/// A note is a UTF-8 text that ends in a newline, a blank line, then signature lines:
///
///     <text, ending in "\n">
///     "\n"
///     "— " <key name> " " base64(key ID || Ed25519 signature) "\n"
///
/// where the key ID is 4 bytes (a big-endian uint32) and the signature 64 bytes.
///
/// The dash is U+2014 EM DASH. The signature covers the text including its final newline,
/// not the blank line. The key ID of an Ed25519 key is
/// `SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[0..<4]`, and its verifier key
/// string, as other signed-note tools read it, is `<name>+<8 hex digits of the ID>+
/// base64(0x01 || public key)`.
///
/// Pure and thread-safe.
public enum SignedNote {
    /// The signature type byte of Ed25519 in signed notes.
    public static let ed25519Type: UInt8 = 0x01
    /// The most signature lines a note may carry; the specification asks verifiers to accept 16.
    public static let maximumSignatures = 64
    private static let signaturePrefix = "\u{2014} "

    /// The 4-byte key ID of an Ed25519 key named `keyName`.
    public static func keyID(keyName: String, publicKey: Ed25519PublicKey) -> [UInt8] {
        var input = Array(keyName.utf8)
        input.append(0x0A)
        input.append(ed25519Type)
        input.append(contentsOf: publicKey.raw)
        return Array(SHA256.hash(input).prefix(4))
    }

    /// The verifier key string: `<name>+<hex key ID>+<base64(0x01 || public key)>`.
    public static func verifierKey(keyName: String, publicKey: Ed25519PublicKey) -> String {
        keyName + "+" + Hex.encode(keyID(keyName: keyName, publicKey: publicKey)) + "+"
            + Base64.encode([ed25519Type] + publicKey.raw)
    }

    /// The name and public key of a verifier key string; nil unless it is a well-formed
    /// Ed25519 verifier key whose ID matches its name and key.
    public static func parseVerifierKey(
        _ text: String
    ) -> (keyName: String, publicKey: Ed25519PublicKey)? {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isValidKeyName(String(parts[0])),
            let id = Hex.decode(String(parts[1])), id.count == 4, parts[1].count == 8,
            let material = Base64.decode(String(parts[2])),
            material.count == 1 + Ed25519PublicKey.byteCount, material[0] == ed25519Type,
            // try?: key bytes that are not a valid Ed25519 point make this not a verifier key.
            let publicKey = try? Ed25519PublicKey(raw: Array(material.dropFirst()))
        else {
            // Every failure above means the same to the caller: not a usable verifier key.
            return nil
        }
        let name = String(parts[0])
        guard keyID(keyName: name, publicKey: publicKey) == id else {
            return nil
        }
        return (name, publicKey)
    }

    /// Key names are non-empty and contain no Unicode whitespace and no "+".
    public static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty
            && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace }
            && !name.unicodeScalars.contains { $0.value < 0x20 }
    }

    /// The signed note of `text` under `privateKey`, named `keyName`.
    ///
    /// Throws `.badSignature` when `text` does not end in a newline, contains a control
    /// character other than newline, or `keyName` is not a valid key name; `.crypto` when
    /// signing fails.
    public static func sign(
        text: String, keyName: String, privateKey: Ed25519PrivateKey
    ) throws(AuditError) -> String {
        guard isValidKeyName(keyName), text.hasSuffix("\n"), !containsForbiddenControl(text)
        else {
            throw AuditError(
                .badSignature, operation: "sign note",
                message: "the note text or key name is not in signed-note form")
        }
        let signature: [UInt8]
        do {
            signature = try privateKey.sign(Array(text.utf8))
        } catch {
            throw AuditError(.crypto, operation: "sign note", message: error.description)
        }
        let id = keyID(keyName: keyName, publicKey: privateKey.publicKey)
        return text + "\n" + signaturePrefix + keyName + " " + Base64.encode(id + signature) + "\n"
    }

    /// The note text of `note` when a signature by `keyName`/`publicKey` verifies; else nil.
    ///
    /// Following the specification: signature lines from other keys (another name or key ID)
    /// are ignored; if any line from this key fails to verify the note is rejected; at least
    /// one must verify. A note that is malformed (no blank line before the signatures, a
    /// line that is not a signature, a control character, too many signatures) is rejected.
    public static func verify(
        text note: String, publicKey: Ed25519PublicKey, keyName: String
    ) -> String? {
        guard let (text, lines) = split(note), !containsForbiddenControl(note) else {
            return nil
        }
        let expectedID = keyID(keyName: keyName, publicKey: publicKey)
        let message = Array(text.utf8)
        var verified = false
        for line in lines {
            guard line.name == keyName, line.blob.count >= 4,
                Array(line.blob.prefix(4)) == expectedID
            else {
                continue
            }
            guard publicKey.verify(signature: Array(line.blob.dropFirst(4)), message: message)
            else {
                return nil
            }
            verified = true
        }
        return verified ? text : nil
    }

    /// `note` with the line-end changes of copying and pasting undone: CRLF becomes LF, blank
    /// lines before the text are dropped, and a missing final newline or extra trailing blank
    /// lines become the one final newline.
    ///
    /// Safe before ``verify``: a note never holds a carriage return, its text never starts with
    /// an empty line (a checkpoint's first line is its origin) and it always ends in exactly
    /// one newline after its last signature line, so these changes restore the note that was
    /// signed and cannot make a different text verify. Anything else (a bare CR, a missing
    /// blank line, trailing spaces) is left for ``verify`` to reject.
    public static func normalizingLineEnds(_ note: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(note.utf8.count + 1)
        var previousWasCR = false
        for byte in note.utf8 {
            if previousWasCR, byte != 0x0A {
                bytes.append(0x0D)
            }
            previousWasCR = byte == 0x0D
            if !previousWasCR {
                bytes.append(byte)
            }
        }
        if previousWasCR {
            bytes.append(0x0D)
        }
        while bytes.last == 0x0A {
            bytes.removeLast()
        }
        let leadingBlankLines = bytes.prefix { $0 == 0x0A }.count
        bytes.removeFirst(leadingBlankLines)
        if !bytes.isEmpty {
            bytes.append(0x0A)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One parsed signature line: the key name and the decoded key ID and signature.
    struct SignatureLine {
        let name: String
        let blob: [UInt8]
    }

    /// Splits a note into its text (with final newline) and signature lines; nil if malformed.
    static func split(_ note: String) -> (text: String, lines: [SignatureLine])? {
        let bytes = Array(note.utf8)
        guard bytes.last == 0x0A, let separator = lastBlankLine(in: bytes) else {
            return nil
        }
        let text = String(decoding: bytes[...separator], as: UTF8.self)
        let block = String(decoding: bytes[(separator + 2)...], as: UTF8.self)
        let rawLines = block.split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast()  // the text after the final newline is empty
        guard !rawLines.isEmpty, rawLines.count <= maximumSignatures else {
            return nil
        }
        var lines: [SignatureLine] = []
        for raw in rawLines {
            guard raw.hasPrefix(signaturePrefix) else {
                return nil
            }
            let fields = raw.dropFirst(signaturePrefix.count)
                .split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, isValidKeyName(String(fields[0])),
                let blob = Base64.decode(String(fields[1]))
            else {
                return nil
            }
            lines.append(SignatureLine(name: String(fields[0]), blob: blob))
        }
        return (text, lines)
    }

    /// The index of the newline that ends the note text: the first of the last "\n\n".
    private static func lastBlankLine(in bytes: [UInt8]) -> Int? {
        var index = bytes.count - 2
        while index >= 0 {
            if bytes[index] == 0x0A, bytes[index + 1] == 0x0A {
                return index
            }
            index -= 1
        }
        return nil
    }

    static func containsForbiddenControl(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 && $0 != 0x0A }
    }
}
