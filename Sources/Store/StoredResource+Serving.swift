extension StoredResource {
    /// The resource as served: the stored canonical JSON with `meta.versionId` and
    /// `meta.lastUpdated` put back from the columns.
    ///
    /// The store keeps these bytes with every version (the `served` column), so a read copies
    /// them; only a row without them is spliced here. The members go first in `meta` (after
    /// `id` when there was no `meta`); JSON member order carries no meaning in FHIR.
    public func servedJSON() -> [UInt8] {
        served ?? ServedJSON.splice(json, version: version, lastUpdated: lastUpdated)
    }
}

/// Byte-level insertion of the server-managed `meta` members into stored canonical JSON.
///
/// Splices bytes instead of parsing: a full parse and rewrite would cost more than the
/// database write it accompanies, and the read path of a store without the `served` column.
enum ServedJSON {
    static func splice(_ json: [UInt8], version: Int, lastUpdated: String) -> [UInt8] {
        var members: [UInt8] = Array("\"versionId\":\"\(version)\",\"lastUpdated\":".utf8)
        members += CanonicalJSONString.bytes(lastUpdated)
        let ranges = TopLevelMembers(json)
        if let meta = ranges.value(of: "meta"), json[meta.lowerBound] == UInt8(ascii: "{") {
            var out = Array(json[..<(meta.lowerBound + 1)])
            out.reserveCapacity(json.count + members.count + 2)
            out += members
            let emptyObject = json[meta.lowerBound + 1] == UInt8(ascii: "}")
            if !emptyObject { out.append(UInt8(ascii: ",")) }
            out += json[(meta.lowerBound + 1)...]
            return out
        }
        let insertAt = ranges.value(of: "id")?.upperBound ?? 1
        var out = Array(json[..<insertAt])
        out.reserveCapacity(json.count + members.count + 12)
        if insertAt > 1 { out.append(UInt8(ascii: ",")) }
        out += Array("\"meta\":{".utf8) + members + [UInt8(ascii: "}")]
        if insertAt == 1 && json.count > 2 { out.append(UInt8(ascii: ",")) }
        out += json[insertAt...]
        return out
    }
}

/// The value ranges of the top-level members of a JSON object, found without decoding.
///
/// Assumes well-formed JSON (what the store wrote); on anything else it finds nothing.
struct TopLevelMembers {
    private let json: [UInt8]
    private var members: [(key: ArraySlice<UInt8>, value: Range<Int>)] = []

    init(_ json: [UInt8]) {
        self.json = json
        var i = Self.skipSpace(json, 0)
        guard i < json.count, json[i] == UInt8(ascii: "{") else { return }
        i += 1
        while true {
            i = Self.skipSpace(json, i)
            guard i < json.count, json[i] == UInt8(ascii: "\"") else { return }
            let keyEnd = Self.skipString(json, i)
            guard keyEnd <= json.count else { return }
            let key = json[(i + 1)..<(keyEnd - 1)]
            i = Self.skipSpace(json, keyEnd)
            guard i < json.count, json[i] == UInt8(ascii: ":") else { return }
            let start = Self.skipSpace(json, i + 1)
            let end = Self.skipValue(json, start)
            guard end <= json.count, end > start else { return }
            members.append((key, start..<end))
            i = Self.skipSpace(json, end)
            guard i < json.count, json[i] == UInt8(ascii: ",") else { return }
            i += 1
        }
    }

    /// The byte range of the value of top-level member `key`.
    func value(of key: String) -> Range<Int>? {
        members.first { $0.key.elementsEqual(key.utf8) }?.value
    }

    private static func skipSpace(_ b: [UInt8], _ start: Int) -> Int {
        var i = start
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// Index just past the string that opens at `start`.
    private static func skipString(_ b: [UInt8], _ start: Int) -> Int {
        var i = start + 1
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return b.count + 1
    }

    /// Index just past the value that starts at `start`.
    private static func skipValue(_ b: [UInt8], _ start: Int) -> Int {
        guard start < b.count else { return b.count + 1 }
        switch b[start] {
        case UInt8(ascii: "\""):
            return skipString(b, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\""):
                    i = skipString(b, i)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return b.count + 1
        default:
            var i = start
            while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != UInt8(ascii: "]"),
                b[i] != 0x20, b[i] != 0x0A, b[i] != 0x0D, b[i] != 0x09
            {
                i += 1
            }
            return i
        }
    }
}

/// A JSON string literal in the store's canonical escaping.
enum CanonicalJSONString {
    static func bytes(_ text: String) -> [UInt8] {
        CanonicalJSON.bytes(.string(text))
    }
}
