internal import COpenSSL

/// Owner of one `EVP_MD_CTX`, the state of a running digest or of a one-shot sign/verify.
///
/// Not thread-safe: a context belongs to one caller at a time. It is freed in `deinit`.
final class DigestContext {
    /// The context. Never null; freed in `deinit`.
    private let pointer: OpaquePointer

    /// Allocates an empty context.
    ///
    /// `EVP_MD_CTX_new` fails only when a small allocation fails, which the process treats
    /// like any Swift allocation failure: it stops.
    init() {
        guard let allocated = EVP_MD_CTX_new() else {
            fatalError("EVP_MD_CTX_new: out of memory")
        }
        self.pointer = allocated
    }

    deinit {
        EVP_MD_CTX_free(pointer)
    }

    /// Lends the `EVP_MD_CTX*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }

    /// A new context holding a copy of this one's state, for copy-on-write value types.
    func copy() -> DigestContext {
        let duplicate = DigestContext()
        let copied = duplicate.withPointer { target in
            withPointer { source in EVP_MD_CTX_copy_ex(target, source) }
        }
        guard copied == 1 else {
            let error = CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "cannot copy a digest state", operation: "DigestContext.copy")
            fatalError("\(error)")
        }
        return duplicate
    }
}
