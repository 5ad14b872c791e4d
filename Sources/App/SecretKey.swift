import Crypto
import POSIX

/// The key that seals secrets at rest (TOTP seeds), kept in the data directory.
///
/// Created on first start with 32 random bytes from OpenSSL, owner-only (0600) and published
/// atomically; refused when group or others can read it. Keeping it on another volume than the
/// databases (a symlinked data directory entry is refused, so mount it there) makes a stolen
/// database copy useless for the second factor.
enum SecretKey {
    static let fileName = "secrets.key"

    static func loadOrCreate(directory: String) throws -> [UInt8] {
        let path = directory + "/" + fileName
        if let existing = try PrivateFile.readPrivate(path: path) {
            return try checked(existing, path)
        }
        let fresh = SecureRandom.bytes(AESGCM.keyByteCount)
        if try PrivateFile.publishNew(
            path: path, contents: fresh, mode: 0o600, temporarySuffix: Hex.encode(SecureRandom.bytes(8)))
        {
            return fresh
        }
        guard let raced = try PrivateFile.readPrivate(path: path) else {
            throw PrivateFile.Failure(insecure: false, message: "\(path) vanished while it was created")
        }
        return try checked(raced, path)
    }

    private static func checked(_ key: [UInt8], _ path: String) throws -> [UInt8] {
        guard key.count == AESGCM.keyByteCount else {
            throw PrivateFile.Failure(insecure: true, message: "\(path) does not hold a 32-byte key")
        }
        return key
    }
}
