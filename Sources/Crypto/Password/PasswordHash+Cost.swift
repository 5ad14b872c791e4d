extension PasswordHash {
    /// The scrypt cost of a password hash: N = 2^`logN`, block size `r`, parallelism `p`.
    ///
    /// Every cost this type can hold is within the bounds the parser accepts, so a hash made
    /// with any `Cost` verifies later.
    public struct Cost: Sendable, Hashable, CustomStringConvertible {
        /// log2 of scrypt's N.
        public let logN: Int
        /// scrypt's block size r.
        public let r: Int
        /// scrypt's parallelism p.
        public let p: Int

        /// Accepted log2 N. Below 2^10 scrypt is too cheap to be worth its name.
        public static let logNRange = 10...20
        /// Accepted block size.
        public static let rRange = 1...32
        /// Accepted parallelism. phigate runs one derivation per thread, so p > 1 buys only
        /// time, and a small bound keeps a hostile stored string from costing minutes.
        public static let pRange = 1...4
        /// The memory one derivation may use: 256 MiB.
        public static let maxMemory: UInt64 = 256 << 20

        /// N = 2^15, r = 8, p = 1: 32 MiB and some tens of milliseconds per hash, the
        /// interactive-login cost RFC 7914 and current OWASP guidance point to.
        public static let standard = Cost(unchecked: 15, 8, 1)

        /// A cost with the given parameters.
        ///
        /// - Throws: `invalidParameter` when a parameter is outside its range or the
        ///   combination needs more than ``maxMemory``.
        public init(logN: Int, r: Int, p: Int) throws(CryptoError) {
            guard Self.isAcceptable(logN: logN, r: r, p: p) else {
                throw CryptoError(
                    .invalidParameter, "scrypt cost out of bounds",
                    operation: "PasswordHash.Cost.init")
            }
            self.init(unchecked: logN, r, p)
        }

        /// A cost whose bounds the caller has already checked with `isAcceptable`.
        init(unchecked logN: Int, _ r: Int, _ p: Int) {
            self.logN = logN
            self.r = r
            self.p = p
        }

        /// Whether the parameters are within bounds, including the memory bound.
        static func isAcceptable(logN: Int, r: Int, p: Int) -> Bool {
            guard logNRange.contains(logN), rRange.contains(r), pRange.contains(p) else {
                return false
            }
            let memory = Scrypt.memoryRequired(
                n: UInt64(1) << UInt64(logN), r: UInt32(r), p: UInt32(p))
            return memory.map { $0 <= maxMemory } ?? false
        }

        /// The parameter field of the encoded string, `ln=15,r=8,p=1`.
        public var description: String {
            "ln=\(logN),r=\(r),p=\(p)"
        }
    }
}
