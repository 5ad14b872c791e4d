import Crypto

/// Bytes from a hex literal in a test table; a typo in a table is a test bug, so it traps.
func hex(_ text: String) -> [UInt8] {
    let compact = text.filter { !$0.isWhitespace }
    guard let bytes = Hex.decode(compact) else {
        fatalError("bad hex literal in a test table")
    }
    return bytes
}

/// The UTF-8 bytes of `text`.
func ascii(_ text: String) -> [UInt8] {
    Array(text.utf8)
}
