/// The shared engine behind ``Base64`` and ``Base64URL`` (RFC 4648 sections 4 and 5).
///
/// Decoding is strict so that every byte string has exactly one accepted text form: no
/// whitespace, no characters from the other alphabet, padding only where the caller allows it
/// and only in the right amount, and unused trailing bits must be zero.
struct Base64Codec: Sendable {
    /// Whether `=` padding may appear in decoded input.
    enum Padding: Sendable {
        case optional
        case forbidden
    }

    private let alphabet: [UInt8]
    private let values: [UInt8]

    static let standard = Base64Codec(last2: "+/")
    static let urlSafe = Base64Codec(last2: "-_")

    private static let invalid: UInt8 = 0xFF

    private init(last2: String) {
        let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + last2
        alphabet = Array(letters.utf8)
        var table = [UInt8](repeating: Self.invalid, count: 256)
        for (index, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(index)
        }
        values = table
    }

    /// The text form of `bytes`, with `=` padding to a multiple of four when `padded`.
    func encode(_ bytes: [UInt8], padded: Bool) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let first = UInt32(bytes[index]) << 16
            let second = remaining > 1 ? UInt32(bytes[index + 1]) << 8 : 0
            let third = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = first | second | third
            let characters = remaining >= 3 ? 4 : remaining + 1
            for position in 0..<characters {
                let shift = UInt32(18 - 6 * position)
                output.append(alphabet[Int((group >> shift) & 0x3F)])
            }
            if padded && characters < 4 {
                output.append(contentsOf: repeatElement(UInt8(ascii: "="), count: 4 - characters))
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil when it is not a canonical encoding.
    func decode(_ text: String, padding: Padding) -> [UInt8]? {
        var characters = Array(text.utf8)
        let padCount = characters.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        if padCount > 0 {
            guard padding == .optional, padCount <= 2, characters.count % 4 == 0 else {
                return nil
            }
            characters.removeLast(padCount)
            // Padding must be exactly what the unpadded length implies: two characters
            // carry one byte and take "==", three carry two bytes and take "=".
            guard (4 - characters.count % 4) % 4 == padCount else { return nil }
        }
        guard characters.count % 4 != 1 else { return nil }

        var output: [UInt8] = []
        output.reserveCapacity(characters.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bitCount = 0
        for character in characters {
            let value = values[Int(character)]
            guard value != Self.invalid else { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
            }
        }
        // Leftover bits (2 or 4) must be zero, or two texts would decode to the same bytes.
        let leftover = accumulator & ((1 << UInt32(bitCount)) - 1)
        guard leftover == 0 else { return nil }
        return output
    }
}
