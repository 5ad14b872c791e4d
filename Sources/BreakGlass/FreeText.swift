/// The rules for the free text phigate keeps as evidence: justifications and review notes.
///
/// The text is stored and shown as written, apart from surrounding white space. It may
/// contain any printable character and line feeds, and nothing that could hide or rewrite
/// what a reader sees: no other control characters (tab and carriage return included, so
/// "\r\n" is refused rather than rewritten), no bidirectional embedding, override or isolate
/// controls, no direction marks, and no Unicode line or paragraph separators.
enum FreeText {
    /// Why a text was refused.
    enum Problem: Error, Equatable {
        case tooShort
        case tooLong
        case forbiddenCharacter
    }

    /// `raw` without surrounding white space (Unicode White_Space, newlines included), or
    /// the problem with it. Length is counted in characters (grapheme clusters).
    static func cleaned(
        _ raw: String, minimum: Int, maximum: Int
    ) -> Result<String, Problem> {
        // At most four UTF-8 bytes per scalar: longer input is refused before any Unicode
        // processing, so that a hostile megabyte costs nothing.
        guard raw.utf8.count <= maximum * 4 else {
            return .failure(.tooLong)
        }
        let scalars = raw.unicodeScalars
        guard scalars.allSatisfy(isAllowed) else {
            return .failure(.forbiddenCharacter)
        }
        let trimmed = scalars.drop(while: \.properties.isWhitespace)
            .reversed().drop(while: \.properties.isWhitespace).reversed()
        let text = String(String.UnicodeScalarView(trimmed))
        let length = text.count
        if length < minimum {
            return .failure(.tooShort)
        }
        if length > maximum {
            return .failure(.tooLong)
        }
        return .success(text)
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\n" {
            return true
        }
        switch scalar.value {
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029:
            return false
        default:
            return scalar.properties.generalCategory != .control
        }
    }
}
