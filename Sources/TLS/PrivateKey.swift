internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Owner of one `EVP_PKEY` loaded from a permission-checked PEM file.
///
/// The file is opened once and checked with `fstat` on the open descriptor, so the bytes that
/// are parsed come from the very file whose mode was checked. The PEM text is wiped from memory
/// once parsed. The key is freed in `deinit`; an `SSL_CTX` that uses it keeps its own reference.
final class PrivateKey {
    /// The key. Never null; freed in `deinit`.
    private let pointer: OpaquePointer

    /// Largest key file accepted; a PEM private key is a few kilobytes.
    private static let maximumFileSize = 1 << 20

    /// Loads the unencrypted PEM private key at `path`.
    ///
    /// Throws `.keyPermissions` when the file is not a regular file or group or others have any
    /// access to it, and `.privateKey` when it cannot be read or parsed (an encrypted key is
    /// refused: there is no one to type a passphrase).
    init(path: String) throws(TLSError) {
        var pem = try Self.readProtectedFile(path)
        defer { Self.wipe(&pem) }

        let parsed: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else {
                return nil
            }
            defer { BIO_free(bio) }
            // A passphrase callback that supplies none, so that OpenSSL never prompts on a
            // terminal for an encrypted key; such a key fails to load instead.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let parsed else {
            throw TLSError.drainingOpenSSLQueue(
                .privateKey, "the private key file \(path) does not hold an unencrypted PEM key")
        }
        self.pointer = parsed
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// Lends the `EVP_PKEY*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }

    /// Reads a file that only its owner may access.
    private static func readProtectedFile(_ path: String) throws(TLSError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TLSError(.privateKey, "cannot open the private key file \(path)")
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw TLSError(.privateKey, "cannot inspect the private key file \(path)")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw TLSError(.keyPermissions, "the private key path \(path) is not a regular file")
        }
        let groupAndOther = status.st_mode & 0o077
        guard groupAndOther == 0 else {
            let mode = String(status.st_mode & 0o777, radix: 8)
            throw TLSError(
                .keyPermissions,
                "the private key file \(path) has mode \(mode); group and others must have "
                    + "no access (chmod 600)")
        }
        guard Int(status.st_size) <= maximumFileSize else {
            throw TLSError(.privateKey, "the private key file \(path) is too large to be a key")
        }
        return try readAll(descriptor, expectedSize: Int(status.st_size), path: path)
    }

    /// Reads `descriptor` to its end, refusing more than `maximumFileSize` bytes.
    ///
    /// Capacity for the whole file is reserved up front so that growing the array never leaves
    /// a copy of the key text behind in freed memory.
    private static func readAll(
        _ descriptor: Int32, expectedSize: Int, path: String
    ) throws(TLSError) -> [UInt8] {
        var contents: [UInt8] = []
        contents.reserveCapacity(expectedSize + 4096)
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { wipe(&chunk) }
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 {
                return contents
            }
            // A file that grew past its reserved capacity while being read is refused too.
            let limit = min(maximumFileSize, contents.capacity)
            guard count > 0, contents.count + count <= limit else {
                wipe(&contents)
                throw TLSError(.privateKey, "cannot read the private key file \(path)")
            }
            contents.append(contentsOf: chunk[0..<count])
        }
    }

    /// Overwrites key text in place, in a way the optimiser may not remove.
    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress {
                OPENSSL_cleanse(base, buffer.count)
            }
        }
    }
}
