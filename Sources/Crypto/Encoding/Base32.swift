/// Base32 (RFC 4648 section 6), the form TOTP secrets take in `otpauth://` URIs and when a
/// user types one into an authenticator app.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Uppercase base32 text of `bytes`, without `=` padding (the form `otpauth://` URIs use).
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var accumulator: UInt32 = 0
        var bitCount = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | UInt32(byte)
            bitCount += 8
            while bitCount >= 5 {
                bitCount -= 5
                output.append(alphabet[Int((accumulator >> UInt32(bitCount)) & 0x1F)])
            }
            accumulator &= (1 << UInt32(bitCount)) - 1
        }
        if bitCount > 0 {
            output.append(alphabet[Int((accumulator << UInt32(5 - bitCount)) & 0x1F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil when it is not valid base32.
    ///
    /// Letters may be upper- or lowercase. `=` padding is accepted only when complete (to a
    /// multiple of eight characters). Refused: whitespace, hyphens, digits `0`, `1`, `8`, `9`,
    /// lengths no byte string encodes to, and non-zero unused trailing bits.
    public static func decode(_ text: String) -> [UInt8]? {
        var characters = Array(text.utf8)
        let padCount = characters.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        if padCount > 0 {
            guard characters.count % 8 == 0 else { return nil }
            characters.removeLast(padCount)
            guard paddingLength(forUnpadded: characters.count) == padCount else { return nil }
        }
        // Valid unpadded lengths leave 0, 2, 4, 5 or 7 characters in the last group.
        guard [0, 2, 4, 5, 7].contains(characters.count % 8) else { return nil }

        var output: [UInt8] = []
        output.reserveCapacity(characters.count * 5 / 8)
        var accumulator: UInt32 = 0
        var bitCount = 0
        for character in characters {
            guard let value = value(character) else { return nil }
            accumulator = (accumulator << 5) | UInt32(value)
            bitCount += 5
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
                accumulator &= (1 << UInt32(bitCount)) - 1
            }
        }
        guard accumulator == 0 else { return nil }
        return output
    }

    /// The `=` count that completes an unpadded text of `count` characters to a multiple of 8.
    private static func paddingLength(forUnpadded count: Int) -> Int {
        count % 8 == 0 ? 0 : 8 - count % 8
    }

    private static func value(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): character - UInt8(ascii: "2") + 26
        default: nil
        }
    }
}
