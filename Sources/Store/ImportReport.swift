/// What one `RecordStore.importBundle` call did.
public struct ImportReport: Sendable, Equatable {
    /// What happened to one resource.
    public enum Outcome: String, Sendable, Equatable {
        /// Stored for the first time, as version 1.
        case created
        /// Stored with content differing from every version seen before; version incremented.
        case updated
        /// Content identical to the current or an earlier version; nothing written.
        case unchanged
    }

    /// Per-type tallies.
    public struct Counts: Sendable, Equatable {
        public var created = 0
        public var updated = 0
        public var unchanged = 0

        public init(created: Int = 0, updated: Int = 0, unchanged: Int = 0) {
            self.created = created
            self.updated = updated
            self.unchanged = unchanged
        }

        /// Resources of this type in the bundle.
        public var total: Int {
            created + updated + unchanged
        }
    }

    /// One resource of the bundle, in entry order.
    public struct Resource: Sendable, Equatable {
        public let type: String
        public let id: String
        /// The version stored after the import.
        public let version: Int
        public let outcome: Outcome
    }

    /// Counts by resource type.
    public private(set) var countsByType: [String: Counts] = [:]
    /// References left as they were because no resource matched (see `ReferenceResolver`).
    public internal(set) var unresolvedReferences = 0
    /// Every resource of the bundle, in entry order (for the audit trail of an import).
    public private(set) var resources: [Resource] = []

    public init() {}

    /// The counts summed over all types.
    public var totals: Counts {
        countsByType.values.reduce(into: Counts()) { sum, counts in
            sum.created += counts.created
            sum.updated += counts.updated
            sum.unchanged += counts.unchanged
        }
    }

    mutating func record(type: String, id: String, version: Int, outcome: Outcome) {
        resources.append(Resource(type: type, id: id, version: version, outcome: outcome))
        switch outcome {
        case .created: countsByType[type, default: Counts()].created += 1
        case .updated: countsByType[type, default: Counts()].updated += 1
        case .unchanged: countsByType[type, default: Counts()].unchanged += 1
        }
    }
}
