/// A Patient search, in the terms of FHIR R4's Patient search parameters.
///
/// Repeating a parameter (several array elements) requires all of them to match; a comma
/// inside one value offers alternatives, any of which may match (`gender=male,other`); `\,` is
/// a literal comma. String parameters (`name`, `family`, `given`) match the start of a name
/// part, ignoring case and diacritics: `family=mull` finds "Müller". Values are checked when
/// the search runs; a value that cannot be understood throws `.invalidSearch`.
public struct SearchParameters: Sendable, Equatable {
    /// Start of any name part: family, given, prefix, suffix or text.
    public var name: [String]
    /// Start of the family name.
    public var family: [String]
    /// Start of any given name.
    public var given: [String]
    /// A date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) with an optional prefix `eq` (the default),
    /// `ne`, `gt`, `lt`, `ge`, `le`, `sa` or `eb`, e.g. `ge1980-01`.
    public var birthdate: [String]
    /// An administrative gender code: male, female, other, unknown.
    public var gender: [String]
    /// `system|value`, `|value` (no system), `system|` (any value) or `value` (any system).
    public var identifier: [String]
    /// Page size; at most `maximumCount`. Zero returns only the total.
    public var count: Int
    /// Matches to skip before the page starts.
    public var offset: Int
    /// When set, only these patient ids can match: the caller's policy decides which patients
    /// a searcher may see, and the restriction applies before counting, so totals never leak.
    public var restrictToIDs: [String]?

    public static let maximumCount = 1_000

    public init(
        name: [String] = [], family: [String] = [], given: [String] = [],
        birthdate: [String] = [], gender: [String] = [], identifier: [String] = [],
        count: Int = 50, offset: Int = 0, restrictToIDs: [String]? = nil
    ) {
        self.restrictToIDs = restrictToIDs
        self.name = name
        self.family = family
        self.given = given
        self.birthdate = birthdate
        self.gender = gender
        self.identifier = identifier
        self.count = count
        self.offset = offset
    }
}

/// A WHERE clause built from fixed SQL fragments, with every search value bound, never inlined.
struct SearchFilter {
    private(set) var clauses: [String] = []
    private(set) var arguments: [SQLiteValue] = []

    /// Adds a clause that is not a search parameter (a visibility restriction).
    mutating func restrict(sql: String, argument: SQLiteValue) {
        clauses.append(sql)
        arguments.append(argument)
    }

    /// The clauses joined with AND, or "1" when there are none.
    var sql: String {
        clauses.isEmpty ? "1" : clauses.joined(separator: " AND ")
    }

    /// Adds one parameter value: each comma-separated alternative becomes one fragment, and
    /// the fragments are joined with OR.
    mutating func add(
        _ parameter: String, value: String,
        fragment: (String) throws -> (sql: String, arguments: [SQLiteValue])
    ) throws {
        let alternatives = Self.alternatives(of: value)
        var parts: [String] = []
        for alternative in alternatives {
            guard !alternative.isEmpty else {
                throw StoreError(
                    .invalidSearch, operation: "search",
                    message: "parameter \(parameter) has an empty value")
            }
            let built = try fragment(alternative)
            parts.append(built.sql)
            arguments += built.arguments
        }
        clauses.append("(" + parts.joined(separator: " OR ") + ")")
    }

    /// Splits at commas not preceded by a backslash and unescapes `\,`.
    static func alternatives(of value: String) -> [String] {
        var result: [String] = []
        var current = ""
        var escaping = false
        for character in value {
            if escaping {
                if character != "," {
                    current.append("\\")
                }
                current.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "," {
                result.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if escaping {
            current.append("\\")
        }
        result.append(current)
        return result
    }
}
