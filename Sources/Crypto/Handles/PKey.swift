internal import COpenSSL

/// Owner of one `EVP_PKEY`, a public or private key held by OpenSSL.
///
/// A key is never modified after it is built, and OpenSSL allows concurrent signing and
/// verification with one `EVP_PKEY` as long as each operation has its own `EVP_MD_CTX`, which
/// every caller in this module allocates. That is what makes `@unchecked Sendable` safe here.
final class PKey: @unchecked Sendable {
    /// The key. Never null; freed in `deinit`.
    private let pointer: OpaquePointer

    /// Takes ownership of a key returned by an OpenSSL constructor.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
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
}
