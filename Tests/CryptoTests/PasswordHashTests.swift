import Crypto
import Testing

/// Password hashing: the encoded format, verification, refusal of altered or malformed
/// strings, and rehash decisions. Most cases use a cheap cost (N = 2^10) to stay fast.
struct PasswordHashTests {
    static let cheap = try! PasswordHash.Cost(logN: 10, r: 8, p: 1)

    /// RFC 7914's third vector written as an encoded hash: ln=14, r=8, p=1, salt
    /// "SodiumChloride", the 64-byte output, for the password "pleaseletmein".
    static let rfcEncoded =
        "$scrypt$ln=14,r=8,p=1$U29kaXVtQ2hsb3JpZGU$"
        + "cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2LUlwUkKpr55h6F3A1lHkDfzwF7RVdYhw"

    @Test func knownAnswerVerifies() {
        #expect(PasswordHash.verify("pleaseletmein", against: Self.rfcEncoded))
        #expect(!PasswordHash.verify("pleaseletmeout", against: Self.rfcEncoded))
    }

    @Test func roundTripAtStandardCost() throws {
        let encoded = try PasswordHash.hash("correct horse battery staple")
        #expect(encoded.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
        #expect(PasswordHash.verify("correct horse battery staple", against: encoded))
        #expect(!PasswordHash.needsRehash(encoded))
    }

    @Test(arguments: [
        "", "a", "pässwörd", "🔑 with spaces ", String(repeating: "x", count: 4096),
    ])
    func roundTrip(_ password: String) throws {
        let encoded = try PasswordHash.hash(password, cost: Self.cheap)
        #expect(PasswordHash.verify(password, against: encoded))
        #expect(!PasswordHash.verify(password + "!", against: encoded))
    }

    @Test func wrongPasswordsAreRefused() throws {
        let encoded = try PasswordHash.hash("Tr0ub4dor&3", cost: Self.cheap)
        for wrong in ["tr0ub4dor&3", "Tr0ub4dor&", "Tr0ub4dor&3 ", "", "Tr0ub4dor&4"] {
            #expect(!PasswordHash.verify(wrong, against: encoded), "\(wrong)")
        }
    }

    @Test func saltsDiffer() throws {
        let first = try PasswordHash.hash("same", cost: Self.cheap)
        let second = try PasswordHash.hash("same", cost: Self.cheap)
        #expect(first != second)
    }

    @Test func equivalentUnicodeFormsMatch() throws {
        // "é" precomposed (U+00E9) and decomposed (e + U+0301); the "fi" ligature (U+FB01).
        let encoded = try PasswordHash.hash("caf\u{E9} \u{FB01}ne", cost: Self.cheap)
        #expect(PasswordHash.verify("cafe\u{301} fine", against: encoded))
    }

    /// Alterations of a valid encoded string, made by `alter` on its five fields.
    struct Alteration: Sendable, CustomTestStringConvertible {
        let name: String
        let alter: @Sendable ([String]) -> String
        var testDescription: String { name }
    }

    static let alterations: [Alteration] = [
        Alteration(name: "hash character changed") { f in
            let hash = f[4]
            let flipped = hash.first == "A" ? "B" : "A"
            return [f[0], f[1], f[2], f[3], flipped + hash.dropFirst()].joined(separator: "$")
        },
        Alteration(name: "salt character changed") { f in
            let salt = f[3]
            let flipped = salt.first == "A" ? "B" : "A"
            return [f[0], f[1], f[2], flipped + salt.dropFirst(), f[4]].joined(separator: "$")
        },
        Alteration(name: "cost lowered") { f in
            [f[0], f[1], "ln=11,r=8,p=1", f[3], f[4]].joined(separator: "$")
        },
        Alteration(name: "hash truncated") { f in
            [f[0], f[1], f[2], f[3], String(f[4].dropLast(4))].joined(separator: "$")
        },
        Alteration(name: "algorithm renamed") { f in
            [f[0], "scrypt2", f[2], f[3], f[4]].joined(separator: "$")
        },
    ]

    @Test(arguments: alterations)
    func alteredStringsAreRefused(_ alteration: Alteration) throws {
        let encoded = try PasswordHash.hash("hunter2", cost: Self.cheap)
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
            .map(String.init)
        #expect(PasswordHash.verify("hunter2", against: encoded))
        #expect(!PasswordHash.verify("hunter2", against: alteration.alter(fields)))
    }

    /// Malformed strings, each built around the valid salt and hash of `rfcEncoded`.
    static let salt = "U29kaXVtQ2hsb3JpZGU"
    static let hash =
        "cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2LUlwUkKpr55h6F3A1lHkDfzwF7RVdYhw"

    static let malformed: [String] = [
        "",
        "$",
        "$scrypt$",
        "scrypt$ln=14,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=14,r=8,p=1$\(salt)",
        "$scrypt$ln=14,r=8,p=1$\(salt)$\(hash)$",
        "$argon2id$ln=14,r=8,p=1$\(salt)$\(hash)",
        "$SCRYPT$ln=14,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$r=8,ln=14,p=1$\(salt)$\(hash)",
        "$scrypt$ln=14,r=8$\(salt)$\(hash)",
        "$scrypt$ln=14,r=8,p=1,x=1$\(salt)$\(hash)",
        "$scrypt$ln=014,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=+14,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln= 14,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=14 ,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=0x0e,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=9,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=21,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=20,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=14,r=0,p=1$\(salt)$\(hash)",
        "$scrypt$ln=14,r=33,p=1$\(salt)$\(hash)",
        "$scrypt$ln=14,r=8,p=0$\(salt)$\(hash)",
        "$scrypt$ln=14,r=8,p=5$\(salt)$\(hash)",
        "$scrypt$ln=99999999999999999999,r=8,p=1$\(salt)$\(hash)",
        "$scrypt$ln=14,r=8,p=1$\(salt)=$\(hash)",
        "$scrypt$ln=14,r=8,p=1$\(salt)$\(hash)==",
        "$scrypt$ln=14,r=8,p=1$U29kaXVt$\(hash)",
        "$scrypt$ln=14,r=8,p=1$\(salt)$cCO9yzr9c0hGHAbNgf046w",
        "$scrypt$ln=14,r=8,p=1$\(salt)$\(hash.replacingSlashes())",
        "$scrypt$ln=14,r=8,p=1$ \(salt)$\(hash)",
        "$scrypt$ln=14,r=8,p=1$\(salt)$\(hash)\n",
    ]

    @Test(arguments: malformed)
    func malformedStringsAreRefused(_ encoded: String) {
        #expect(!PasswordHash.verify("pleaseletmein", against: encoded))
        #expect(PasswordHash.needsRehash(encoded))
    }

    @Test func needsRehashFollowsTheCost() throws {
        let encoded = try PasswordHash.hash("pw", cost: Self.cheap)
        #expect(!PasswordHash.needsRehash(encoded, cost: Self.cheap))
        #expect(PasswordHash.needsRehash(encoded, cost: .standard))
        #expect(PasswordHash.needsRehash(encoded, cost: try .init(logN: 10, r: 8, p: 2)))
        // The RFC string uses a 14-byte salt and a 64-byte hash: valid, but not today's shape.
        #expect(PasswordHash.needsRehash(Self.rfcEncoded, cost: try .init(logN: 14, r: 8, p: 1)))
    }

    @Test(arguments: [(9, 8, 1), (21, 8, 1), (20, 8, 1), (14, 0, 1), (14, 8, 0), (14, 8, 5)])
    func costBoundsAreEnforced(_ parameters: (Int, Int, Int)) {
        let (logN, r, p) = parameters
        #expect { try PasswordHash.Cost(logN: logN, r: r, p: p) } throws: {
            ($0 as? CryptoError)?.code == .invalidParameter
        }
    }
}

extension String {
    /// The same text with `/` turned into `_`: base64url characters in a base64 field.
    fileprivate func replacingSlashes() -> String {
        String(map { $0 == "/" ? "_" : $0 })
    }
}
