internal import COpenSSL

/// Owner of one memory `BIO`, the buffer OpenSSL's PEM reader and writer work through.
///
/// Not thread-safe. Freed in `deinit`. A BIO made by `init(readingFrom:)` copies its input,
/// so the caller's buffer need not outlive it.
final class MemoryBIO {
    /// The BIO. Never null; freed in `deinit`.
    private let pointer: OpaquePointer

    /// An empty, growable BIO for OpenSSL to write into.
    init(operation: String) throws(CryptoError) {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "cannot allocate a memory BIO", operation: operation)
        }
        self.pointer = bio
    }

    /// A BIO holding a copy of `bytes`, for OpenSSL to read from.
    convenience init(readingFrom bytes: [UInt8], operation: String) throws(CryptoError) {
        try self.init(operation: operation)
        let written = bytes.withUnsafeBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
            return BIO_write(pointer, base, Int32(clamping: buffer.count))
        }
        guard bytes.isEmpty || Int(written) == bytes.count else {
            throw CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "cannot fill a memory BIO", operation: operation)
        }
    }

    deinit {
        BIO_free(pointer)
    }

    /// Lends the `BIO*` for the duration of `body`; the pointer must not escape.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }

    /// Removes and returns everything OpenSSL has written into the BIO.
    func readAll() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(pointer))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { buffer in
            BIO_read(pointer, buffer.baseAddress, Int32(clamping: pending))
        }
        return Array(bytes.prefix(max(0, Int(read))))
    }
}
