/// An ordered list of header (or trailer) fields, with names kept exactly as they were sent.
///
/// Lookups compare names ASCII case-insensitively (RFC 9110 5.1); equality of two lists is
/// exact, name spelling and order included. Repeated fields stay separate entries: the list
/// never joins values with commas, so a caller can tell two Host lines from one.
public struct HTTPHeaders: Sendable, Sequence, Equatable, ExpressibleByDictionaryLiteral {
    public typealias Element = (name: String, value: String)

    /// A struct rather than the tuple `Element`: arrays of tuples are copied and destroyed
    /// through generic runtime calls, arrays of structs through specialised code.
    fileprivate struct Field: Sendable {
        var name: String
        var value: String
    }

    private var fields: [Field]

    public init() {
        fields = []
    }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// An empty list with room for `capacity` fields, so that adding them does not regrow it.
    public init(reservingCapacity capacity: Int) {
        fields = []
        fields.reserveCapacity(capacity)
    }

    /// Number of field lines, repeated names counted once per line.
    public var count: Int { fields.count }

    public var isEmpty: Bool { fields.isEmpty }

    /// Appends a field line, keeping any existing fields of the same name.
    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Replaces the first field of this name (case-insensitively) in place and removes the
    /// others; appends the field when none exists.
    public mutating func replaceOrAdd(name: String, value: String) {
        guard let first = fields.firstIndex(where: { ASCII.equalsIgnoringCase($0.name, name) })
        else {
            add(name: name, value: value)
            return
        }
        fields[first] = Field(name: name, value: value)
        var index = fields.index(after: first)
        while index < fields.endIndex {
            if ASCII.equalsIgnoringCase(fields[index].name, name) {
                fields.remove(at: index)
            } else {
                index += 1
            }
        }
    }

    /// Removes every field of this name, compared case-insensitively.
    public mutating func remove(name: String) {
        fields.removeAll { ASCII.equalsIgnoringCase($0.name, name) }
    }

    /// The first value of the named field, or nil when absent.
    public subscript(name: String) -> String? {
        fields.first { ASCII.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Every value of the named field, in the order the lines appeared.
    public func values(for name: String) -> [String] {
        fields.compactMap { ASCII.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    /// How many lines carry the named field; counts without collecting the values.
    public func count(of name: String) -> Int {
        fields.reduce(0) { ASCII.equalsIgnoringCase($1.name, name) ? $0 + 1 : $0 }
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { ASCII.equalsIgnoringCase($0.name, name) }
    }

    public func makeIterator() -> Iterator {
        Iterator(fields: fields.makeIterator())
    }

    /// Yields each field as a `(name, value)` pair, in order.
    public struct Iterator: IteratorProtocol {
        fileprivate var fields: IndexingIterator<[Field]>

        public mutating func next() -> Element? {
            fields.next().map { (name: $0.name, value: $0.value) }
        }
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}
