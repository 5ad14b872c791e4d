/// A small seeded pseudo-random generator (SplitMix64) for the demo data set.
///
/// Not for cryptographic use, and must never become so: its output is a pure function of the
/// seed, which is the point. It exists only so that one seed always produces the same
/// fictional records. Passwords, tokens, TOTP secrets and everything else secret come from
/// OpenSSL through Crypto's `SecureRandom`.
///
/// The range helpers are written here rather than taken from the standard library's
/// `random(in:using:)`, whose algorithm is not promised to stay the same across toolchains.
struct DemoRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// A generator for one named stream of the data set (`"patient-7"`, `"uuid:Patient/x"`).
    ///
    /// Each patient and practitioner draws from its own stream, so adding patients or changing
    /// the draws made for one record leaves every other record as it was.
    init(seed: UInt64, stream: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a offset basis
        for byte in stream.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        var mixer = DemoRandom(seed: seed ^ hash)
        state = mixer.next()
    }

    /// The next 64 pseudo-random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A value in `range` by multiply-high reduction; the bias (span / 2^64) is immaterial for
    /// demo data.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) + 1
        let offset = next().multipliedFullWidth(by: span).high
        return range.lowerBound + Int(offset)
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool {
        int(in: 0...99) < percent
    }

    /// One element of a non-empty array.
    mutating func element<Element>(of elements: [Element]) -> Element {
        precondition(!elements.isEmpty, "no element to choose from")
        return elements[int(in: 0...(elements.count - 1))]
    }

    /// `count` distinct elements of `elements` (all of them when it has fewer), in the order
    /// drawn.
    mutating func distinct<Element>(_ count: Int, of elements: [Element]) -> [Element] {
        var pool = elements
        var chosen: [Element] = []
        while chosen.count < count, !pool.isEmpty {
            chosen.append(pool.remove(at: int(in: 0...(pool.count - 1))))
        }
        return chosen
    }

    /// A UUID in lowercase 8-4-4-4-12 form that depends only on `seed` and `name`.
    ///
    /// Shaped as version 4 (pseudo-random) with the RFC 9562 variant. Reproducible by design,
    /// hence guessable: it names demo records, never anything that must stay secret.
    static func uuid(seed: UInt64, name: String) -> String {
        var random = DemoRandom(seed: seed, stream: "uuid:" + name)
        var bytes: [UInt8] = []
        for _ in 0..<2 {
            let word = random.next()
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef")
        var text = ""
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) {
                text.append("-")
            }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}
