internal import COpenSSL

/// Owner of one fetched `EVP_MD` algorithm object.
///
/// Fetching an algorithm by name is a locked lookup in the provider registry; the module
/// fetches each digest once and keeps it for the life of the process. An `EVP_MD` is immutable
/// after the fetch and OpenSSL allows it to be shared between threads, which is what makes the
/// `@unchecked Sendable` below safe.
final class MessageDigest: @unchecked Sendable {
    /// The fetched algorithm. Never null; freed in `deinit`.
    private let pointer: OpaquePointer
    /// The digest's output size in bytes.
    let byteCount: Int
    /// The OpenSSL name the digest was fetched by (for example `SHA256`).
    let name: String

    static let sha1 = MessageDigest(fetching: "SHA1")
    static let sha256 = MessageDigest(fetching: "SHA256")
    static let sha512 = MessageDigest(fetching: "SHA512")

    /// Fetches a digest from the default provider.
    ///
    /// Only called with the fixed names above. The default provider always carries them, so a
    /// failed fetch means the OpenSSL installation is broken and the process stops.
    private init(fetching name: String) {
        guard let fetched = EVP_MD_fetch(nil, name, nil) else {
            let error = CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "digest \(name) is unavailable", operation: "MessageDigest.fetch")
            fatalError("\(error)")
        }
        self.pointer = fetched
        self.byteCount = Int(EVP_MD_get_size(fetched))
        self.name = name
    }

    deinit {
        EVP_MD_free(pointer)
    }

    /// Lends the `EVP_MD*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }
}
