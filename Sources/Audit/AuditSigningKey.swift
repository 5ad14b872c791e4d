public import Crypto

/// The Ed25519 key that signs audit checkpoints, kept in the data directory.
///
/// Files, in the directory given to ``loadOrCreate(directory:keyName:)``:
/// - `audit-signing.key`: the private key, PKCS #8 PEM, mode 0600, owned by this user;
/// - `audit-signing.pub`: the public key, SubjectPublicKeyInfo PEM, for `phigate audit verify`
///   and for whoever checks published checkpoints.
///
/// The private key file is created with `O_CREAT | O_EXCL` and mode 0600 in one `open` call
/// (never widened and then narrowed with chmod), written to a temporary name and linked into
/// place, so a crash or a concurrent start never leaves a partial key under the real name.
/// A key file that another user could read, or that this user does not own, is refused.
public struct AuditSigningKey: Sendable {
    /// The file name of the private key.
    public static let privateKeyFileName = "audit-signing.key"
    /// The file name of the public key.
    public static let publicKeyFileName = "audit-signing.pub"

    /// The signing key.
    public let privateKey: Ed25519PrivateKey
    /// The signed-note key name checkpoints are signed under.
    public let keyName: String

    /// The verification key.
    public var publicKey: Ed25519PublicKey { privateKey.publicKey }

    /// The signed-note verifier key string: `<name>+<hex key ID>+<base64(0x01 || key)>`.
    public var verifierKey: String {
        SignedNote.verifierKey(keyName: keyName, publicKey: publicKey)
    }

    public init(privateKey: Ed25519PrivateKey, keyName: String) {
        self.privateKey = privateKey
        self.keyName = keyName
    }

    /// Loads the key from `directory`, creating it (and the public key file) on first use.
    ///
    /// Throws `.insecureKeyFile` when the key file is readable or writable by group or others,
    /// is not a regular file or is owned by another user; `.keyFile` when it cannot be read,
    /// written or parsed. The public key file is rewritten when it does not match the key.
    public static func loadOrCreate(
        directory: String, keyName: String = "phigate.local/audit"
    ) throws(AuditError) -> AuditSigningKey {
        guard SignedNote.isValidKeyName(keyName) else {
            throw AuditError(
                .keyFile, operation: "load key",
                message: "the key name is not a valid note key name")
        }
        let path = directory + "/" + privateKeyFileName
        let key: Ed25519PrivateKey
        if let pem = try KeyFile.readPrivate(path: path) {
            key = try parse(pem)
        } else {
            key = try create(at: path, directory: directory)
        }
        let publicPEM: String
        do {
            publicPEM = try key.publicKey.pem()
        } catch {
            throw AuditError(.crypto, operation: "load key", message: error.description)
        }
        let publicPath = directory + "/" + publicKeyFileName
        if try KeyFile.readPublic(path: publicPath) != Array(publicPEM.utf8) {
            try KeyFile.replace(path: publicPath, contents: Array(publicPEM.utf8), mode: 0o644)
        }
        return AuditSigningKey(privateKey: key, keyName: keyName)
    }

    private static func parse(_ pem: [UInt8]) throws(AuditError) -> Ed25519PrivateKey {
        do {
            return try Ed25519PrivateKey(pem: String(decoding: pem, as: UTF8.self))
        } catch {
            throw AuditError(.keyFile, operation: "load key", message: error.description)
        }
    }

    private static func create(at path: String, directory: String) throws(AuditError)
        -> Ed25519PrivateKey
    {
        let key: Ed25519PrivateKey
        let pem: String
        do {
            key = try Ed25519PrivateKey.generate()
            pem = try key.pemPKCS8()
        } catch {
            throw AuditError(.crypto, operation: "create key", message: error.description)
        }
        let published = try KeyFile.publishNew(
            path: path, contents: Array(pem.utf8), mode: 0o600, suffix: Hex.encode(SecureRandom.bytes(8)))
        if !published {
            // Another process created the key first: use its key, not ours.
            guard let existing = try KeyFile.readPrivate(path: path) else {
                throw AuditError(.keyFile, operation: "load key", message: "the key file vanished")
            }
            return try parse(existing)
        }
        return key
    }
}
