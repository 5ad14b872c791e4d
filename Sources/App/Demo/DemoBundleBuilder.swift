/// Collects the entries of one transaction Bundle and gives each a deterministic fullUrl.
struct DemoBundleBuilder {
    let seed: UInt64
    private var entries: [DemoJSON] = []

    init(seed: UInt64) {
        self.seed = seed
    }

    /// The `urn:uuid:` fullUrl of `type/id` in this data set: a function of the seed and the
    /// resource, so a reference can be written before or after its target is added.
    func fullUrl(_ type: String, _ id: String) -> String {
        "urn:uuid:" + DemoRandom.uuid(seed: seed, name: type + "/" + id)
    }

    /// Adds `type/id` with `members` after its `resourceType`, `id` and a `meta.security`
    /// label marking it as test data, as a PUT entry, and returns its fullUrl.
    @discardableResult
    mutating func add(_ type: String, _ id: String, _ members: DemoJSON) -> String {
        var resource: DemoJSON = [
            "resourceType": .string(type), "id": .string(id),
            "meta": [
                "security": [
                    .coding(DemoCatalog.System.actReason, "HTEST", "test health data")
                ]
            ],
        ]
        if case .object(let rest) = members {
            for member in rest {
                resource.append(member.key, member.value)
            }
        }
        let url = fullUrl(type, id)
        entries.append([
            "fullUrl": .string(url), "resource": resource,
            "request": ["method": "PUT", "url": .string(type + "/" + id)],
        ])
        return url
    }

    /// The Bundle as JSON bytes.
    var bytes: [UInt8] {
        let bundle: DemoJSON = [
            "resourceType": "Bundle", "type": "transaction", "entry": .array(entries),
        ]
        return bundle.bytes
    }
}
