/// Reading the body: a Content-Length body, or a chunked body with its trailer section.
extension HTTPRequestParser {
    mutating func readFixedBody(
        _ input: UnsafeRawBufferPointer, from start: Int, remaining: Int
    ) -> Step {
        let count = min(remaining, input.count - start)
        guard count > 0 else { return .needMore }
        appendBytes(&body, input, start..<start + count)
        if count == remaining {
            return finish(trailers: HTTPHeaders(), consumed: start + count)
        }
        state = .fixedBody(remaining: remaining - count)
        return .needMore
    }

    /// Reads a chunk-size line, copying it only when a read splits it. The line may be at
    /// most `HTTPLimits.maxChunkLineBytes` plus CRLF; a longer one fails as soon as the
    /// budget is spent, without waiting for LF.
    mutating func readChunkSizeLine(_ input: UnsafeRawBufferPointer, from start: Int) -> Step {
        let budget = HTTPLimits.maxChunkLineBytes + 2 - partial.count
        let searchEnd = min(input.count, start + budget)
        var index = start
        while index < searchEnd && input[index] != ASCII.lf { index += 1 }
        guard index < searchEnd else {
            if searchEnd - start == budget { return fail(.chunkLineTooLong) }
            appendBytes(&partial, input, start..<input.count)
            return .needMore
        }

        let lineEnd = index + 1
        let result: Result<Int, HTTPParseError>
        if partial.isEmpty {
            result = ChunkSizeLine.parse(UnsafeRawBufferPointer(rebasing: input[start..<lineEnd]))
        } else {
            appendBytes(&partial, input, start..<lineEnd)
            result = partial.withUnsafeBytes { ChunkSizeLine.parse($0) }
            partial = []
        }
        switch result {
        case .failure(let error):
            return fail(error)
        case .success(0):
            scanner = SectionScanner(trailersAfter: scanner)
            state = .trailers
        case .success(let size):
            guard size <= limits.maxBodyBytes - body.count else { return fail(.bodyTooLarge) }
            state = .chunkData(remaining: size)
        }
        return .advance(to: lineEnd)
    }

    mutating func readChunkData(
        _ input: UnsafeRawBufferPointer, from start: Int, remaining: Int
    ) -> Step {
        let count = min(remaining, input.count - start)
        guard count > 0 else { return .needMore }
        appendBytes(&body, input, start..<start + count)
        if count == remaining {
            state = .chunkDataEnd(sawCR: false)
        } else {
            state = .chunkData(remaining: remaining - count)
        }
        return .advance(to: start + count)
    }

    /// The CRLF after chunk data. Anything else means the chunk size lied about the data,
    /// which is exactly the disagreement smuggling relies on, so it fails.
    mutating func readChunkDataEnd(
        _ input: UnsafeRawBufferPointer, from start: Int, sawCR: Bool
    ) -> Step {
        var index = start
        if !sawCR {
            guard index < input.count else { return .needMore }
            guard input[index] == ASCII.cr else { return fail(.badChunk) }
            index += 1
        }
        guard index < input.count else {
            state = .chunkDataEnd(sawCR: true)
            return .needMore
        }
        guard input[index] == ASCII.lf else { return fail(.badChunk) }
        state = .chunkSizeLine
        return .advance(to: index + 1)
    }

    /// The trailer section after the last chunk, with the head's field rules and what is left
    /// of its size and count budgets.
    mutating func readTrailers(_ input: UnsafeRawBufferPointer, from start: Int) -> Step {
        switch scanner.scan(input, from: start) {
        case .failure(let error):
            return fail(error)
        case .needMore(let sectionStart):
            if let sectionStart { appendBytes(&partial, input, sectionStart..<input.count) }
            return .needMore
        case .complete(let sectionStart, let end):
            let result: Result<HTTPHeaders, HTTPParseError>
            if partial.isEmpty {
                result = parseTrailers(UnsafeRawBufferPointer(rebasing: input[sectionStart..<end]))
            } else {
                appendBytes(&partial, input, sectionStart..<end)
                result = partial.withUnsafeBytes { parseTrailers($0) }
                partial = []
            }
            switch result {
            case .failure(let error):
                return fail(error)
            case .success(let trailers):
                return finish(trailers: trailers, consumed: end)
            }
        }
    }

    private func parseTrailers(
        _ bytes: UnsafeRawBufferPointer
    ) -> Result<HTTPHeaders, HTTPParseError> {
        do throws(HTTPParseError) {
            var policy = TrailerPolicy()
            let (trailers, _) = try FieldSection.parse(
                bytes, from: 0, expectedCount: 0, observer: &policy)
            return .success(trailers)
        } catch {
            return .failure(error)
        }
    }
}

/// Appends `source[range]` to `array` (a block copy: raw buffers copy their contents with
/// one memory move).
@inline(__always)
func appendBytes(_ array: inout [UInt8], _ source: UnsafeRawBufferPointer, _ range: Range<Int>) {
    array.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[range]))
}
