/// Parses one chunk-size line of a chunked body (RFC 9112 7.1):
/// `chunk-size *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] ) CRLF`.
///
/// The size is 1 to 16 hex digits and must fit in `Int`; a sign, a "0x" prefix, an empty
/// size or trailing whitespace is rejected. Extension names and values (token or
/// quoted-string) are checked and then ignored: phigate gives them no meaning.
enum ChunkSizeLine {
    /// Longest hex size accepted; more digits fail even when they are leading zeros.
    static let maxSizeDigits = 16

    /// `line` is the whole line up to and including its LF.
    static func parse(_ line: UnsafeRawBufferPointer) -> Result<Int, HTTPParseError> {
        do throws(HTTPParseError) {
            return .success(try parseSize(line))
        } catch {
            return .failure(error)
        }
    }

    private static func parseSize(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        guard line.count >= 2, line[line.count - 2] == ASCII.cr else { throw .badLineEnding }
        let end = line.count - 2

        var index = 0
        var size = 0
        while index < end, let digit = ASCII.hexValue(line[index]) {
            guard index < maxSizeDigits, size <= Int.max >> 4 else { throw .badChunk }
            size = size << 4 | Int(digit)
            index += 1
        }
        guard index > 0 else { throw .badChunk }

        while index < end {
            index = skipWhitespace(line, from: index, to: end)
            guard index < end, line[index] == ASCII.semicolon else { throw .badChunk }
            index = skipWhitespace(line, from: index + 1, to: end)
            let nameStart = index
            while index < end && ASCII.isTokenByte(line[index]) { index += 1 }
            guard index > nameStart else { throw .badChunk }

            let valueMark = skipWhitespace(line, from: index, to: end)
            if valueMark < end && line[valueMark] == ASCII.equals {
                index = try skipValue(
                    line, from: skipWhitespace(line, from: valueMark + 1, to: end), to: end)
            }
        }
        return size
    }

    /// Skips an ext-value, a token or a quoted-string; returns the index after it.
    private static func skipValue(
        _ line: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) throws(HTTPParseError) -> Int {
        guard start < end else { throw .badChunk }
        var index = start
        if line[index] != ASCII.quote {
            while index < end && ASCII.isTokenByte(line[index]) { index += 1 }
            guard index > start else { throw .badChunk }
            return index
        }
        index += 1
        while index < end {
            let byte = line[index]
            if byte == ASCII.quote { return index + 1 }
            guard ASCII.isFieldValueByte(byte) else { throw .badChunk }
            if byte == ASCII.backslash {
                guard index + 1 < end, ASCII.isFieldValueByte(line[index + 1]) else {
                    throw .badChunk
                }
                index += 2
            } else {
                index += 1
            }
        }
        throw .badChunk
    }

    private static func skipWhitespace(
        _ line: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Int {
        var index = start
        while index < end && ASCII.isWhitespace(line[index]) { index += 1 }
        return index
    }
}
