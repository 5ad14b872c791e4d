import Foundation

/// Rewrites the references of a bundle's resources into `Type/id` form.
///
/// Every `reference` member anywhere in a resource (contained resources included) is checked:
/// - a value equal to some entry's `fullUrl` (`urn:uuid:...`, or an absolute URL) becomes that
///   entry's `Type/id`;
/// - a conditional reference `Type?identifier=system|value` (as Synthea writes for
///   practitioners and organizations) becomes `Type/id` when exactly one resource of that type
///   carries the identifier, in this bundle or already in the store;
/// - a `urn:` reference to no entry, or a conditional one matching zero or several resources,
///   is left as it is and counted as unresolved;
/// - anything else (`Type/id`, `#contained`, external URLs) is left alone.
struct ReferenceResolver {
    /// Ids of stored resources of `type` carrying identifier `system|value`; a nil system
    /// matches any system, an empty one matches identifiers without a system.
    typealias StoredLookup = (_ type: String, _ system: String?, _ value: String) throws -> [String]

    private let targets: [String: String]
    private let bundleIdentifiers: [String: [IdentifierKey: [String]]]
    private let storedLookup: StoredLookup

    struct IdentifierKey: Hashable {
        let system: String
        let value: String
    }

    init(entries: [BundleEntry], storedLookup: @escaping StoredLookup) {
        var targets: [String: String] = [:]
        var identifiers: [String: [IdentifierKey: [String]]] = [:]
        for entry in entries {
            if let fullUrl = entry.fullUrl {
                targets[fullUrl] = entry.reference
            }
            for identifier in ResourceIndexer.identifiers(of: entry.resource) {
                let key = IdentifierKey(system: identifier.system, value: identifier.value)
                identifiers[entry.type, default: [:]][key, default: []].append(entry.id)
            }
        }
        self.targets = targets
        self.bundleIdentifiers = identifiers
        self.storedLookup = storedLookup
    }

    /// Resolves the references in `resource` in place and returns how many stayed unresolved.
    func resolve(in resource: inout JSONObject) throws -> Int {
        var unresolved = 0
        var value = JSONValue.object(resource)
        try rewrite(&value, unresolved: &unresolved)
        if case .object(let rewritten) = value {
            resource = rewritten
        }
        return unresolved
    }

    private func rewrite(_ value: inout JSONValue, unresolved: inout Int) throws {
        switch value {
        case .array(var elements):
            value = .null  // drops the second reference so the elements are edited in place
            for index in elements.indices {
                try rewrite(&elements[index], unresolved: &unresolved)
            }
            value = .array(elements)
        case .object(var object):
            value = .null
            for index in object.members.indices {
                let member = object.members[index]
                if member.key == "reference", case .string(let reference) = member.value {
                    if let resolved = try target(of: reference, unresolved: &unresolved) {
                        object.members[index].value = .string(resolved)
                    }
                } else {
                    try rewrite(&object.members[index].value, unresolved: &unresolved)
                }
            }
            value = .object(object)
        default:
            break
        }
    }

    /// The `Type/id` a reference should read, or nil to leave it as it is.
    private func target(of reference: String, unresolved: inout Int) throws -> String? {
        if let target = targets[reference] {
            return target
        }
        if reference.hasPrefix("urn:") {
            unresolved += 1
            return nil
        }
        guard let question = reference.firstIndex(of: "?") else {
            return nil
        }
        let type = String(reference[..<question])
        guard FHIRSyntax.isValidTypeName(type) else {
            return nil
        }
        let query = reference[reference.index(after: question)...]
        guard let match = try conditionalTarget(type: type, query: query) else {
            unresolved += 1
            return nil
        }
        return type + "/" + match
    }

    /// The single id matching `identifier=[system|]value`, or nil for no match, several
    /// matches, or a query with other parameters (which the store does not evaluate).
    private func conditionalTarget(type: String, query: Substring) throws -> String? {
        let parts = query.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, parts[0] == "identifier", !parts[1].contains("&"),
            let token = String(parts[1]).removingPercentEncoding
        else {
            return nil
        }
        let system: String?
        let value: String
        if let bar = token.firstIndex(of: "|") {
            system = String(token[..<bar])
            value = String(token[token.index(after: bar)...])
        } else {
            system = nil
            value = token
        }
        guard !value.isEmpty else {
            return nil
        }
        var matches = Set(bundleMatches(type: type, system: system, value: value))
        matches.formUnion(try storedLookup(type, system, value))
        return matches.count == 1 ? matches.first : nil
    }

    private func bundleMatches(type: String, system: String?, value: String) -> [String] {
        guard let identifiers = bundleIdentifiers[type] else {
            return []
        }
        if let system {
            return identifiers[IdentifierKey(system: system, value: value)] ?? []
        }
        return identifiers.filter { $0.key.value == value }.flatMap(\.value)
    }
}
