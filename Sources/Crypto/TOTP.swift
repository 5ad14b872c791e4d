/// Time-based one-time passwords (RFC 6238) over HOTP (RFC 4226).
///
/// phigate issues SHA-1, 6-digit, 30-second codes, the combination every authenticator app
/// supports. SHA-256 and SHA-512 exist for the RFC's own test vectors and for clients that
/// ask for them. This type computes codes only; the acceptance window, replay protection and
/// rate limiting belong to the caller, which must compare codes with
/// ``constantTimeEquals(_:_:)``.
public enum TOTP {
    /// The HMAC hash function behind the codes.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"
    }

    /// The digit counts RFC 4226 allows (section 5.3: at least 6; the 31-bit value has 10).
    public static let digitRange = 6...9
    /// The recommended secret length for SHA-1: 20 bytes (160 bits, RFC 4226 section 4).
    public static let recommendedSecretByteCount = 20

    /// The code for `counter`: HOTP(secret, counter) with dynamic truncation, as `digits`
    /// decimal digits with leading zeros.
    ///
    /// - Precondition: `digits` is in ``digitRange`` (a programming error otherwise).
    public static func code(
        secret: [UInt8], counter: UInt64, digits: Int = 6, algorithm: Algorithm = .sha1
    ) -> String {
        precondition(digitRange.contains(digits), "TOTP codes have 6 to 9 digits")
        let message = (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * $0)) }
        let mac =
            switch algorithm {
            case .sha1: HMAC.sha1(key: secret, message: message)
            case .sha256: HMAC.sha256(key: secret, message: message)
            case .sha512: HMAC.sha512(key: secret, message: message)
            }
        // Dynamic truncation (RFC 4226 section 5.3): the low nibble of the last byte picks
        // four bytes; their value with the top bit cleared is reduced modulo 10^digits.
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let word = mac[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let value = word & 0x7FFF_FFFF
        var modulus: UInt32 = 1
        for _ in 0..<digits {
            modulus *= 10
        }
        let number = String(value % modulus)
        return String(repeating: "0", count: digits - number.count) + number
    }

    /// The time step counter for `unixTime` (seconds since 1970): floor(time / step) with
    /// T0 = 0. Times before 1970 give counter 0.
    ///
    /// - Precondition: `step` is positive.
    public static func counter(at unixTime: Int64, step: Int64 = 30) -> UInt64 {
        precondition(step > 0, "the TOTP time step must be positive")
        return unixTime <= 0 ? 0 : UInt64(unixTime / step)
    }

    /// Whether `text` has the shape of a code: exactly `digits` ASCII digits `0`-`9` and
    /// nothing else. Spaces, signs, full-width or other scripts' digits are all refused, so
    /// that the caller never needs to normalize what a user typed before comparing it.
    public static func isWellFormedCode(_ text: String, digits: Int = 6) -> Bool {
        let bytes = text.utf8
        return bytes.count == digits
            && bytes.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
