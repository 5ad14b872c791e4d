internal import COpenSSL

/// Owner of one `EVP_CIPHER_CTX`, the state of one encryption or decryption.
///
/// Not thread-safe: a context belongs to one operation. It is freed in `deinit`, which also
/// wipes the expanded key schedule it holds.
final class CipherContext {
    /// The context. Never null; freed in `deinit`.
    private let pointer: OpaquePointer

    /// Allocates an empty context; allocation failure stops the process like any other.
    init() {
        guard let allocated = EVP_CIPHER_CTX_new() else {
            fatalError("EVP_CIPHER_CTX_new: out of memory")
        }
        self.pointer = allocated
    }

    deinit {
        EVP_CIPHER_CTX_free(pointer)
    }

    /// Lends the `EVP_CIPHER_CTX*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }
}
