internal import CZlib

/// Gzip compression of data produced in pieces, such as a streamed audit export.
///
/// Feed chunks with ``compress(_:)`` and send whatever it returns (often nothing: zlib buffers
/// up to its window); call ``flush()`` when the receiver should be able to decode everything
/// sent so far, and ``finish()`` once at the end. The concatenated outputs form one gzip
/// member, byte for byte what ``Gzip/compress(_:level:)`` makes of the concatenated input
/// when no flush was requested.
///
/// Not thread-safe: a stream belongs to one writer.
public final class GzipStream {
    private let stream: ZStream
    private var isFinished = false

    /// A stream compressing at `level` (0-9, or -1 for zlib's default).
    ///
    /// - Throws: `invalidParameter` for a level outside -1...9; `libraryFailure` when zlib
    ///   cannot allocate its state (about 256 KiB).
    public init(level: Int32 = 6) throws(CompressionError) {
        stream = try ZStream(deflateLevel: level, operation: "GzipStream.init")
    }

    /// Compresses `chunk`, returning the compressed bytes zlib is ready to release.
    public func compress(_ chunk: [UInt8]) throws(CompressionError) -> [UInt8] {
        try run(chunk, flush: Z_NO_FLUSH, operation: "GzipStream.compress")
    }

    /// Releases everything compressed so far, aligned so that a receiver can decode all of it
    /// (a zlib sync flush). Costs a few bytes of ratio each time; call it per response chunk,
    /// not per record.
    public func flush() throws(CompressionError) -> [UInt8] {
        try run([], flush: Z_SYNC_FLUSH, operation: "GzipStream.flush")
    }

    /// Ends the gzip member: the remaining compressed bytes and the CRC-32 and length trailer.
    /// Any later call throws `streamFinished`.
    public func finish() throws(CompressionError) -> [UInt8] {
        let output = try run([], flush: Z_FINISH, operation: "GzipStream.finish")
        isFinished = true
        return output
    }

    private func run(_ input: [UInt8], flush: Int32, operation: String) throws(CompressionError)
        -> [UInt8]
    {
        guard !isFinished else {
            throw CompressionError(
                .streamFinished, "the gzip stream is already finished",
                operation: operation)
        }
        return try stream.deflate(input, flush: flush, operation: operation)
    }
}
