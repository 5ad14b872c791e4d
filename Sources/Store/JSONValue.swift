/// A JSON document as the record store reads and rewrites it.
///
/// Numbers keep their literal text: FHIR decimals carry precision in their digits ("1.50" is
/// not "1.5"), and a resource that goes in must come out with the same numbers. Object members
/// keep their input order until the canonical writer sorts them.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written in the input, already checked against the JSON grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, when this value is one.
    var stringValue: String? {
        if case .string(let string) = self {
            return string
        }
        return nil
    }

    /// The object, when this value is one.
    var objectValue: JSONObject? {
        if case .object(let object) = self {
            return object
        }
        return nil
    }

    /// The elements, when this value is an array.
    var arrayValue: [JSONValue]? {
        if case .array(let elements) = self {
            return elements
        }
        return nil
    }

    /// The member `key` when this value is an object.
    subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

/// A JSON object: members in input order, keys unique (the parser refuses duplicates).
struct JSONObject: Equatable {
    struct Member: Equatable {
        var key: String
        var value: JSONValue
    }

    var members: [Member]

    init(_ members: [Member] = []) {
        self.members = members
    }

    /// The value of `key`, or nil. Set to nil to remove the member.
    subscript(key: String) -> JSONValue? {
        get {
            members.first { $0.key == key }?.value
        }
        set {
            let index = members.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): members[index].value = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append(Member(key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    var isEmpty: Bool {
        members.isEmpty
    }
}

extension JSONValue {
    /// Every value reached by following `path` (member names), stepping into arrays at each
    /// level, as FHIRPath does for a simple dotted path.
    func values(at path: ArraySlice<String>) -> [JSONValue] {
        guard let key = path.first else {
            if case .array(let elements) = self {
                return elements
            }
            return [self]
        }
        switch self {
        case .array(let elements):
            return elements.flatMap { $0.values(at: path) }
        case .object(let object):
            return object[key]?.values(at: path.dropFirst()) ?? []
        default:
            return []
        }
    }
}
