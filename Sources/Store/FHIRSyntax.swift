/// The small pieces of FHIR R4 syntax the store checks and takes apart.
public enum FHIRSyntax {
    /// True for a valid logical id: `[A-Za-z0-9\-\.]{1,64}`.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        guard (1...64).contains(bytes.count) else {
            return false
        }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."):
                return true
            default:
                return false
            }
        }
    }

    /// True for a plausible resource type name: an ASCII capital then letters, at most 64.
    ///
    /// The store does not check the name against the R4 list, so it can hold any type a
    /// bundle carries; callers that expose types to clients check their own allow-list.
    public static func isValidTypeName(_ type: String) -> Bool {
        let bytes = Array(type.utf8)
        let capitals = UInt8(ascii: "A")...UInt8(ascii: "Z")
        guard (1...64).contains(bytes.count), capitals.contains(bytes[0]) else {
            return false
        }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        }
    }

    /// Splits a relative literal reference `Type/id` (optionally `/_history/version`) into its
    /// type and id; nil for anything else (absolute URLs, `#contained`, conditional queries).
    static func relativeReference(_ reference: String) -> (type: String, id: String)? {
        let parts = reference.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || (parts.count == 4 && parts[2] == "_history") else {
            return nil
        }
        let type = String(parts[0])
        let id = String(parts[1])
        guard isValidTypeName(type), isValidID(id) else {
            return nil
        }
        return (type, id)
    }

    /// The type and id at the end of an absolute RESTful URL such as
    /// `https://example.org/fhir/Patient/123` (or `.../Patient/123/_history/2`).
    static func typeAndID(fromAbsoluteURL url: String) -> (type: String, id: String)? {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            return nil
        }
        let parts = url.split(separator: "/")
        for width in [2, 4] where parts.count > width + 1 {
            let tail = parts.suffix(width).joined(separator: "/")
            if let reference = relativeReference(tail) {
                return reference
            }
        }
        return nil
    }
}
