internal import COpenSSL

/// SHA-256 (FIPS 180-4) over whole messages.
///
/// For data that arrives in pieces, such as the audit chain or a streamed file, use
/// ``SHA256Hasher``.
public enum SHA256 {
    /// The digest size in bytes.
    public static let byteCount = 32

    /// The SHA-256 digest of `data`.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice`, `Data`) are hashed in place; any other
    /// collection is first copied into an array.
    public static func hash<D: Collection>(_ data: D) -> [UInt8] where D.Element == UInt8 {
        let direct = data.withContiguousStorageIfAvailable { buffer in
            hash(UnsafeRawBufferPointer(buffer))
        }
        return direct ?? Array(data).withUnsafeBytes { hash($0) }
    }

    /// The SHA-256 digest of the bytes in `buffer`.
    public static func hash(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        OneShotDigest.compute(.sha256, buffer)
    }
}

/// A one-shot digest through `EVP_Digest`, shared by the hash front ends of this module.
enum OneShotDigest {
    /// The digest of `buffer` with `algorithm`.
    ///
    /// `EVP_Digest` with a fetched, always-present algorithm fails only when OpenSSL cannot
    /// allocate a context; like a Swift allocation failure, that stops the process.
    static func compute(_ algorithm: MessageDigest, _ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: algorithm.byteCount)
        var size: UInt32 = 0
        let status = algorithm.withPointer { digest in
            withNonNullBytes(buffer) { input, count in
                output.withUnsafeMutableBufferPointer { out in
                    EVP_Digest(input, count, out.baseAddress, &size, digest, nil)
                }
            }
        }
        guard status == 1, Int(size) == algorithm.byteCount else {
            let error = CryptoError.drainingOpenSSLQueue(
                .libraryFailure, "\(algorithm.name) failed", operation: "OneShotDigest.compute")
            fatalError("\(error)")
        }
        return output
    }
}
