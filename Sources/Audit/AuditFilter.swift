/// Which entries a compliance query wants; every field that is set must match.
public struct AuditFilter: Sendable, Equatable {
    /// The acting user.
    public var actor: String?
    /// The patient id.
    public var patient: String?
    /// The event name ("fhir.read", "break_glass.activate", ...).
    public var event: String?
    /// The action ("read", "search", ...).
    public var action: String?
    /// "allowed", "denied" or "error".
    public var outcome: String?
    /// Entries at or after this time (Unix milliseconds).
    public var since: Int64?
    /// Entries strictly before this time (Unix milliseconds).
    public var until: Int64?
    /// The break-glass grant id.
    public var grant: String?

    public init(
        actor: String? = nil, patient: String? = nil, event: String? = nil,
        action: String? = nil, outcome: String? = nil, since: Int64? = nil,
        until: Int64? = nil, grant: String? = nil
    ) {
        self.actor = actor
        self.patient = patient
        self.event = event
        self.action = action
        self.outcome = outcome
        self.since = since
        self.until = until
        self.grant = grant
    }

    /// Whether `entry` is selected: the same test the compliance index answers in SQL, where
    /// an empty patient or grant is stored as no value and so matches nothing. A patient
    /// selects every entry that concerns that patient's records (``AuditEntry/patients``).
    public func matches(_ entry: AuditEntry) -> Bool {
        func given(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        let equalities: [(wanted: String?, actual: String?)] = [
            (actor, entry.actor), (event, entry.event),
            (action, entry.action), (outcome, entry.outcome), (grant, given(entry.grant)),
        ]
        for (wanted, actual) in equalities where wanted != nil && wanted != actual {
            return false
        }
        if let patient, !entry.concerns(patient: patient) {
            return false
        }
        if let since, entry.time < since {
            return false
        }
        if let until, entry.time >= until {
            return false
        }
        return true
    }
}

/// One page of query results, oldest first.
public struct AuditPage: Sendable, Equatable {
    /// The entries of this page, in seq order.
    public let entries: [AuditEntry]
    /// Pass as `after` to get the next page; nil when this was the last page.
    public let nextCursor: Int64?

    public init(entries: [AuditEntry], nextCursor: Int64?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }
}
