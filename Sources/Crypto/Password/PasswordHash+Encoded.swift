extension PasswordHash {
    /// The fields of an encoded password hash, and its strict parser.
    struct Encoded {
        let cost: Cost
        let salt: [UInt8]
        let hash: [UInt8]

        init(cost: Cost, salt: [UInt8], hash: [UInt8]) {
            self.cost = cost
            self.salt = salt
            self.hash = hash
        }

        /// `$scrypt$ln=…,r=…,p=…$<salt>$<hash>`.
        var text: String {
            let salt = Base64.encode(self.salt, padded: false)
            let hash = Base64.encode(self.hash, padded: false)
            return "$\(PasswordHash.algorithm)$\(cost)$\(salt)$\(hash)"
        }

        /// Parses `text`, or returns nil.
        ///
        /// Strict on purpose, since the string comes from storage that an attacker may have
        /// touched: exactly five `$`-separated fields, the parameters in the order `ln`, `r`,
        /// `p` with plain decimal values (no sign, no leading zero, no spaces), each within
        /// the bounds of ``Cost``, and canonical unpadded base64 of accepted lengths.
        init?(parsing text: String) {
            let fields = text.split(separator: "$", omittingEmptySubsequences: false)
            guard fields.count == 5, fields[0].isEmpty, fields[1] == PasswordHash.algorithm
            else { return nil }
            guard let cost = Self.parseCost(fields[2]) else { return nil }
            // Padding is refused: the format writes none, and one text per hash keeps
            // comparisons of stored strings meaningful.
            guard !fields[3].contains("="), !fields[4].contains("="),
                let salt = Base64.decode(String(fields[3])),
                let hash = Base64.decode(String(fields[4])),
                PasswordHash.acceptedSaltLengths.contains(salt.count),
                PasswordHash.acceptedHashLengths.contains(hash.count)
            else { return nil }
            self.init(cost: cost, salt: salt, hash: hash)
        }

        private static func parseCost(_ field: Substring) -> Cost? {
            let pairs = field.split(separator: ",", omittingEmptySubsequences: false)
            guard pairs.count == 3,
                let logN = parseValue(pairs[0], name: "ln"),
                let r = parseValue(pairs[1], name: "r"),
                let p = parseValue(pairs[2], name: "p"),
                Cost.isAcceptable(logN: logN, r: r, p: p)
            else { return nil }
            return Cost(unchecked: logN, r, p)
        }

        /// The value of `name=<decimal>`, for at most six ASCII digits without a leading zero.
        private static func parseValue(_ pair: Substring, name: String) -> Int? {
            let prefix = name + "="
            guard pair.hasPrefix(prefix) else { return nil }
            let digits = pair.utf8.dropFirst(prefix.utf8.count)
            guard (1...6).contains(digits.count), digits.first != UInt8(ascii: "0"),
                digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
            else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
    }
}
