internal import COpenSSL

/// Owner of one `EVP_KDF_CTX`, a key-derivation function instance.
///
/// Not thread-safe: a context belongs to one derivation. It is freed in `deinit`, which also
/// wipes the password and salt copies OpenSSL keeps in it.
final class KDFContext {
    /// The context. Never null; freed in `deinit`.
    private let pointer: OpaquePointer

    /// Fetches the KDF named `algorithm` from the default provider and creates a context.
    ///
    /// The fetched `EVP_KDF` is released as soon as the context exists: the context keeps its
    /// own reference to it.
    init(algorithm: String, operation: String) throws(CryptoError) {
        guard let kdf = EVP_KDF_fetch(nil, algorithm, nil) else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "KDF \(algorithm) is unavailable", operation: operation)
        }
        defer { EVP_KDF_free(kdf) }
        guard let context = EVP_KDF_CTX_new(kdf) else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "cannot create a \(algorithm) context", operation: operation)
        }
        self.pointer = context
    }

    deinit {
        EVP_KDF_CTX_free(pointer)
    }

    /// Lends the `EVP_KDF_CTX*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }
}
