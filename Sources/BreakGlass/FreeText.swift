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
    ///
    /// Only what a reader sees counts towards `minimum`: format characters (category Cf,
    /// such as the zero-width space and joiners) and other default-ignorable code points are
    /// left in the text but not counted, and neither is white space at either end once they
    /// are set aside. Text made of nothing else is too short, however long it is.
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
        let text = trimmingWhitespace(scalars)
        if visibleLength(text) < minimum {
            return .failure(.tooShort)
        }
        if text.count > maximum {
            return .failure(.tooLong)
        }
        return .success(text)
    }

    /// The characters of `text` a reader sees: invisible code points removed, then white
    /// space at either end.
    static func visibleLength(_ text: String) -> Int {
        trimmingWhitespace(text.unicodeScalars.filter { !isInvisible($0) }).count
    }

    /// `scalars` without Unicode White_Space (newlines included) at either end.
    private static func trimmingWhitespace<Scalars: BidirectionalCollection<Unicode.Scalar>>(
        _ scalars: Scalars
    ) -> String {
        let trimmed = scalars.drop(while: \.properties.isWhitespace)
            .reversed().drop(while: \.properties.isWhitespace).reversed()
        return String(String.UnicodeScalarView(trimmed))
    }

    /// Format characters and default-ignorable code points: nothing shows where they are.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .format || scalar.properties.isDefaultIgnorableCodePoint
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
