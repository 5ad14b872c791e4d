internal import CZlib

/// One-shot gzip (RFC 1952) compression and bounded decompression through zlib.
///
/// Used for `Content-Encoding: gzip` on responses and on request bodies. For output produced
/// in pieces (streamed audit exports) use ``GzipStream``.
public enum Gzip {
    /// The gzip encoding of `data` at `level` (0 = store, 1 = fastest, 9 = smallest, -1 =
    /// zlib's default). The header carries no file name and a zero modification time, so the
    /// same input and level always give the same bytes.
    ///
    /// - Throws: `invalidParameter` for a level outside -1...9; `libraryFailure` when zlib
    ///   cannot allocate its state.
    public static func compress(_ data: [UInt8], level: Int32 = 6) throws(CompressionError)
        -> [UInt8]
    {
        let operation = "Gzip.compress"
        let stream = try ZStream(deflateLevel: level, operation: operation)
        return try stream.deflate(data, flush: Z_FINISH, operation: operation)
    }

    /// The bytes that `data` decompresses to, refusing to produce more than `maxOutputBytes`.
    ///
    /// `data` must be one or more complete gzip members (a zlib stream is also accepted) with
    /// nothing after them. The limit is enforced while inflating, so a small hostile input
    /// that expands without bound costs at most `maxOutputBytes` of memory.
    ///
    /// - Throws: `outputLimitExceeded` past the limit; `truncatedData` when the input ends
    ///   early (including empty input); `corruptData` for a bad header, block or checksum, or
    ///   trailing bytes.
    public static func decompress(_ data: [UInt8], maxOutputBytes: Int) throws(CompressionError)
        -> [UInt8]
    {
        let operation = "Gzip.decompress"
        guard maxOutputBytes >= 0 else {
            throw CompressionError(
                .invalidParameter, "the output limit must not be negative",
                operation: operation)
        }
        let stream = try ZStream(inflatingWithOperation: operation)
        return try stream.inflateAll(data, limit: maxOutputBytes, operation: operation)
    }
}
