/// Lends `bytes` as a pointer that is never null, even when `bytes` is empty.
///
/// Several OpenSSL entry points refuse a null pointer even with a zero length, and an empty
/// Swift buffer may have no base address. For an empty input the pointer addresses a local
/// byte that OpenSSL is told has length zero, so it is never read.
func withNonNullBytes<Result>(
    _ bytes: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>, Int) -> Result
) -> Result {
    if let base = bytes.baseAddress, !bytes.isEmpty {
        return body(base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
    var placeholder: UInt8 = 0
    return withUnsafePointer(to: &placeholder) { body($0, 0) }
}

/// Lends the contents of `bytes` as a pointer that is never null, even when `bytes` is empty.
func withNonNullBytes<Result>(
    _ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> Result
) -> Result {
    bytes.withUnsafeBytes { withNonNullBytes($0, body) }
}
