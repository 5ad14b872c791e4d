/// One resource taken from a bundle entry, with the type and id it will be stored under.
struct BundleEntry {
    /// Position in `Bundle.entry`, from 0, for error messages.
    let index: Int
    let fullUrl: String?
    let type: String
    let id: String
    /// The resource, with `id` filled in when it was derived from `fullUrl` or `request.url`.
    var resource: JSONObject

    /// `Type/id`: what a resolved reference to this entry reads.
    var reference: String {
        type + "/" + id
    }
}

/// Reads and checks a FHIR R4 Bundle before anything is written.
///
/// Accepts `transaction` and `collection` Bundles. Refuses the whole bundle, naming the entry
/// by index (and fullUrl, which is an identifier, never PHI), when an entry has no resource, a
/// resource has no usable `resourceType` or id, an id breaks FHIR's id syntax, or two entries
/// carry the same resource or the same fullUrl.
enum BundleReader {
    static let importableTypes: Set<String> = ["transaction", "collection"]

    static func read(_ bytes: [UInt8]) throws -> [BundleEntry] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw refusal("bundle is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        guard let bundle = document.objectValue, bundle["resourceType"] == .string("Bundle")
        else {
            throw refusal("the document is not a FHIR Bundle")
        }
        guard let type = bundle["type"]?.stringValue, importableTypes.contains(type) else {
            throw refusal("only transaction and collection Bundles can be imported")
        }
        let rawEntries: [JSONValue]
        switch bundle["entry"] {
        case nil: rawEntries = []
        case .array(let elements)?: rawEntries = elements
        default: throw refusal("Bundle.entry is not an array")
        }

        var entries: [BundleEntry] = []
        entries.reserveCapacity(rawEntries.count)
        var seenResources: [String: Int] = [:]
        var seenFullUrls: [String: Int] = [:]
        for (index, raw) in rawEntries.enumerated() {
            let entry = try readEntry(raw, index: index)
            if let first = seenResources.updateValue(index, forKey: entry.reference) {
                throw refusal(at: entry, "repeats \(entry.reference) of entry \(first)")
            }
            if let fullUrl = entry.fullUrl,
                let first = seenFullUrls.updateValue(index, forKey: fullUrl)
            {
                throw refusal(at: entry, "repeats the fullUrl of entry \(first)")
            }
            entries.append(entry)
        }
        return entries
    }

    private static func readEntry(_ raw: JSONValue, index: Int) throws -> BundleEntry {
        guard let entry = raw.objectValue else {
            throw refusal(index: index, fullUrl: nil, "is not an object")
        }
        let fullUrl = entry["fullUrl"]?.stringValue
        if let method = entry["request"]?["method"]?.stringValue, method != "PUT", method != "POST" {
            // Only creations and updates are imported: a DELETE, PATCH or GET entry would
            // otherwise be taken as an update with the resource it happens to carry.
            throw refusal(
                index: index, fullUrl: fullUrl, "request.method \(method.prefix(8)) is not supported (PUT or POST)")
        }
        guard var resource = entry["resource"]?.objectValue else {
            throw refusal(index: index, fullUrl: fullUrl, "has no resource")
        }
        guard let type = resource["resourceType"]?.stringValue else {
            throw refusal(index: index, fullUrl: fullUrl, "resource has no resourceType")
        }
        guard FHIRSyntax.isValidTypeName(type) else {
            throw refusal(index: index, fullUrl: fullUrl, "resourceType is not a valid type name")
        }
        let id: String
        switch resource["id"] {
        case .string(let given)?:
            id = given
        case nil:
            let requestURL = entry["request"]?["url"]?.stringValue
            guard let derived = derivedID(type: type, fullUrl: fullUrl, requestURL: requestURL)
            else {
                throw refusal(index: index, fullUrl: fullUrl, "resource has no id")
            }
            id = derived
            resource["id"] = .string(derived)
        default:
            throw refusal(index: index, fullUrl: fullUrl, "resource id is not a string")
        }
        guard FHIRSyntax.isValidID(id) else {
            throw refusal(index: index, fullUrl: fullUrl, "resource id is not a valid FHIR id")
        }
        return BundleEntry(index: index, fullUrl: fullUrl, type: type, id: id, resource: resource)
    }

    /// The id implied by `urn:uuid:<uuid>`, an absolute URL ending in `Type/id`, or a PUT
    /// `request.url` of `Type/id`; nil when none applies or the implied type differs.
    static func derivedID(type: String, fullUrl: String?, requestURL: String?) -> String? {
        if let fullUrl {
            if fullUrl.hasPrefix("urn:uuid:") {
                return String(fullUrl.dropFirst("urn:uuid:".count))
            }
            if let parsed = FHIRSyntax.typeAndID(fromAbsoluteURL: fullUrl), parsed.type == type {
                return parsed.id
            }
        }
        if let requestURL, let parsed = FHIRSyntax.relativeReference(requestURL),
            parsed.type == type
        {
            return parsed.id
        }
        return nil
    }

    private static func refusal(_ message: String) -> StoreError {
        StoreError(.malformedBundle, operation: "import", message: message)
    }

    private static func refusal(at entry: BundleEntry, _ problem: String) -> StoreError {
        refusal(index: entry.index, fullUrl: entry.fullUrl, problem)
    }

    private static func refusal(index: Int, fullUrl: String?, _ problem: String) -> StoreError {
        var name = "entry \(index)"
        if let fullUrl {
            name += " (" + printable(fullUrl) + ")"
        }
        return refusal(name + " " + problem)
    }

    /// The fullUrl cut to a sane length with control characters dropped, so that a hostile
    /// bundle cannot forge log lines through an error message.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(200))
    }
}
