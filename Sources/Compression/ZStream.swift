internal import CZlib

/// Owner of one zlib `z_stream`, set up either to deflate into gzip or to inflate gzip/zlib.
///
/// Not thread-safe: one caller at a time. `deinit` ends the stream (freeing zlib's window and
/// state) and releases the struct. Input and output pointers are set only for the duration of
/// one call and cleared afterwards, so the stream never holds a dangling Swift buffer.
final class ZStream {
    enum Direction {
        case deflate
        case inflate
    }

    /// Bytes produced per zlib call before they are appended to the result.
    private static let chunkSize = 64 * 1024
    /// The most input handed to zlib at once; its counters are 32-bit.
    private static let maxInputSlice = 1 << 30

    private let stream: UnsafeMutablePointer<z_stream>
    private let direction: Direction

    /// A gzip deflater at compression `level` (0-9, or -1 for zlib's default of 6).
    init(deflateLevel level: Int32, operation: String) throws(CompressionError) {
        guard (-1...9).contains(level) else {
            throw CompressionError(
                .invalidParameter, "compression level must be -1...9",
                operation: operation)
        }
        stream = Self.allocateStream()
        direction = .deflate
        let status = phigate_deflate_init_gzip(stream, level)
        guard status == Z_OK else {
            stream.deallocate()
            throw CompressionError.zlib(status, streamMessage: nil, operation: operation)
        }
    }

    /// An inflater that accepts a gzip or a zlib header.
    init(inflatingWithOperation operation: String) throws(CompressionError) {
        stream = Self.allocateStream()
        direction = .inflate
        let status = phigate_inflate_init_auto(stream)
        guard status == Z_OK else {
            stream.deallocate()
            throw CompressionError.zlib(status, streamMessage: nil, operation: operation)
        }
    }

    deinit {
        switch direction {
        case .deflate: deflateEnd(stream)
        case .inflate: inflateEnd(stream)
        }
        stream.deallocate()
    }

    /// Deflates `input`, then applies `flush` (`Z_NO_FLUSH`, `Z_SYNC_FLUSH` or `Z_FINISH`),
    /// returning every byte zlib produced.
    func deflate(_ input: [UInt8], flush: Int32, operation: String) throws(CompressionError)
        -> [UInt8]
    {
        precondition(direction == .deflate, "deflate on an inflating stream")
        var output: [UInt8] = []
        var offset = 0
        repeat {
            let slice = min(input.count - offset, Self.maxInputSlice)
            let isLast = offset + slice == input.count
            try deflateSlice(
                input, offset: offset, count: slice, flush: isLast ? flush : Z_NO_FLUSH,
                into: &output, operation: operation)
            offset += slice
        } while offset < input.count
        return output
    }

    private func deflateSlice(
        _ input: [UInt8], offset: Int, count: Int, flush: Int32, into output: inout [UInt8],
        operation: String
    ) throws(CompressionError) {
        var chunk = [UInt8](repeating: 0, count: Self.chunkSize)
        var status = Z_OK
        input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)?
                .advanced(by: offset)
            stream.pointee.avail_in = UInt32(count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = UInt32(target.count)
                    status = CZlib.deflate(stream, flush)
                    return target.count - Int(stream.pointee.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                // zlib needs another call while it fills the whole chunk, or, when finishing,
                // until it reports the end of the stream (Z_STREAM_END instead of Z_OK).
            } while status == Z_OK && (stream.pointee.avail_out == 0 || flush == Z_FINISH)
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
        // Z_BUF_ERROR only means "no progress possible", which an empty flush can cause; but
        // a finish must reach the end of the stream, or the trailer would be missing.
        let acceptable = flush == Z_FINISH ? [Z_STREAM_END] : [Z_OK, Z_STREAM_END, Z_BUF_ERROR]
        guard acceptable.contains(status) else {
            throw CompressionError.zlib(
                status, streamMessage: stream.pointee.msg, operation: operation)
        }
    }

    /// Inflates the whole of `input`, which must hold one or more complete gzip (or zlib)
    /// members and nothing after them, refusing to produce more than `limit` bytes.
    func inflateAll(_ input: [UInt8], limit: Int, operation: String) throws(CompressionError)
        -> [UInt8]
    {
        precondition(direction == .inflate, "inflate on a deflating stream")
        guard input.count <= Self.maxInputSlice else {
            throw CompressionError(
                .invalidParameter, "compressed input larger than 1 GiB",
                operation: operation)
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Self.chunkSize)
        var failure: CompressionError?
        input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = UInt32(source.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
            }
            while true {
                // One byte beyond the limit is enough to know it was exceeded.
                let room = min(chunk.count, limit - output.count + 1)
                var status = Z_OK
                let produced = chunk.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = UInt32(room)
                    status = inflate(stream, Z_NO_FLUSH)
                    return room - Int(stream.pointee.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit {
                    failure = CompressionError(
                        .outputLimitExceeded, "decompressed data exceeds \(limit) bytes",
                        operation: operation)
                    return
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END where stream.pointee.avail_in == 0:
                    return
                case Z_STREAM_END:
                    // Another gzip member follows (RFC 1952 section 2.2); anything else there
                    // fails as corrupt data on the next call.
                    inflateReset(stream)
                case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                    failure = CompressionError(
                        .truncatedData, "the compressed data ends early", operation: operation,
                        zlibStatus: status)
                    return
                default:
                    failure = CompressionError.zlib(
                        status, streamMessage: stream.pointee.msg, operation: operation)
                    return
                }
            }
        }
        if let failure {
            throw failure
        }
        return output
    }

    private static func allocateStream() -> UnsafeMutablePointer<z_stream> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        // zalloc, zfree and opaque must be null (zlib's own allocator); next_in and avail_in
        // must be set before init. Zeroing every field covers both.
        UnsafeMutableRawPointer(stream).initializeMemory(
            as: UInt8.self, repeating: 0, count: MemoryLayout<z_stream>.size)
        return stream
    }
}
