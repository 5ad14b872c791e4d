internal import COpenSSL

/// Whether `a` and `b` hold the same bytes, in time that does not depend on where they differ.
///
/// Use this for every comparison of a secret or of a value derived from one: MACs, password
/// hashes, token digests, TOTP codes. The comparison is `CRYPTO_memcmp`, which reads every byte.
/// Arrays of different lengths are unequal; the length itself is not hidden (it is public for
/// every value compared here), but the contents are still read in full so that the time does
/// not reveal whether a prefix matched.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    let sameLength = a.count == b.count
    // With different lengths, compare `a` with itself: the same amount of work over the
    // contents, and a result that is then discarded.
    let other = sameLength ? b : a
    let difference = a.withUnsafeBytes { left in
        other.withUnsafeBytes { right in
            withNonNullBytes(left) { leftPointer, count in
                withNonNullBytes(right) { rightPointer, _ in
                    CRYPTO_memcmp(leftPointer, rightPointer, count)
                }
            }
        }
    }
    return sameLength && difference == 0
}
