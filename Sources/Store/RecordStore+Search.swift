extension RecordStore {
    /// Resources of `type`, in id order; with `patient`, only those in that patient's
    /// compartment. `total` counts all matches; `count` (at most
    /// `SearchParameters.maximumCount`) and `offset` select the page.
    ///
    /// With `allowedPatients`, a resource that also belongs to another patient's compartment
    /// (a Coverage naming two family members, say) matches only when every such patient is in
    /// the list: a search never discloses what a direct read of the resource would refuse.
    public func search(
        type: String, patient: String?, count: Int, offset: Int, allowedPatients: [String]? = nil
    ) throws -> SearchResult {
        let page = try Self.page(count: count, offset: offset)
        let columns = Self.resourceColumns
        guard let patient else {
            let total = try database.scalar(
                "SELECT count(*) FROM resources WHERE type = ?", [.text(type)])
            let resources = try database.query(
                "SELECT \(columns) FROM resources r WHERE r.type = ? "
                    + "ORDER BY r.id LIMIT ? OFFSET ?",
                [.text(type)] + page, row: Self.storedResource)
            return SearchResult(total: Int(total ?? 0), resources: resources)
        }
        let (shared, sharedArguments) = Self.sharedCompartmentFilter(allowedPatients)
        let total = try database.scalar(
            "SELECT count(*) FROM compartment c WHERE c.patient_id = ? AND c.type = ?" + shared,
            [.text(patient), .text(type)] + sharedArguments)
        let resources = try database.query(
            "SELECT \(columns) FROM compartment c "
                + "JOIN resources r ON r.type = c.type AND r.id = c.id "
                + "WHERE c.patient_id = ? AND c.type = ?" + shared + " ORDER BY r.id LIMIT ? OFFSET ?",
            [.text(patient), .text(type)] + sharedArguments + page, row: Self.storedResource)
        return SearchResult(total: Int(total ?? 0), resources: resources)
    }

    /// The clause that drops resources also in the compartment of a patient outside `allowed`.
    private static func sharedCompartmentFilter(_ allowed: [String]?) -> (String, [SQLiteValue]) {
        guard let allowed else { return ("", []) }
        return (
            " AND NOT EXISTS (SELECT 1 FROM compartment o WHERE o.type = c.type AND o.id = c.id"
                + " AND o.patient_id NOT IN (SELECT value FROM json_each(?)))",
            [.text(jsonArray(allowed))]
        )
    }

    /// The Patient and every resource in its compartment: the Patient first, then the rest by
    /// type and id. Empty when the Patient is not stored.
    ///
    /// Resources outside the compartment that these refer to (Practitioners, Organizations)
    /// are not included.
    ///
    /// `allowedPatients` filters shared resources as in `search`.
    public func everything(patient: String, allowedPatients: [String]? = nil) throws -> [StoredResource] {
        guard let subject = try storedResource(type: "Patient", id: patient) else {
            return []
        }
        let (shared, sharedArguments) = Self.sharedCompartmentFilter(allowedPatients)
        let others = try database.query(
            "SELECT \(Self.resourceColumns) FROM compartment c "
                + "JOIN resources r ON r.type = c.type AND r.id = c.id "
                + "WHERE c.patient_id = ? AND NOT (c.type = 'Patient' AND c.id = ?)" + shared
                + " ORDER BY r.type, r.id",
            [.text(patient), .text(patient)] + sharedArguments, row: Self.storedResource)
        return [subject] + others
    }

    /// Patients matching every given parameter, in id order, with the total over all pages.
    public func searchPatients(_ parameters: SearchParameters) throws -> SearchResult {
        let page = try Self.page(count: parameters.count, offset: parameters.offset)
        let filter = try Self.patientFilter(parameters)
        let total = try database.scalar(
            "SELECT count(*) FROM resources r WHERE r.type = 'Patient' AND " + filter.sql,
            filter.arguments)
        let resources = try database.query(
            "SELECT \(Self.resourceColumns) FROM resources r WHERE r.type = 'Patient' AND "
                + filter.sql + " ORDER BY r.id LIMIT ? OFFSET ?",
            filter.arguments + page, row: Self.storedResource)
        return SearchResult(total: Int(total ?? 0), resources: resources)
    }

    private static func page(count: Int, offset: Int) throws -> [SQLiteValue] {
        guard (0...SearchParameters.maximumCount).contains(count), offset >= 0 else {
            throw StoreError(
                .invalidSearch, operation: "search",
                message: "count must be 0...\(SearchParameters.maximumCount), offset at least 0")
        }
        return [.int(count), .int(offset)]
    }

    static func patientFilter(_ parameters: SearchParameters) throws -> SearchFilter {
        var filter = SearchFilter()
        let nameParameters = [
            ("name", parameters.name, ""), ("family", parameters.family, " AND kind = 'family'"),
            ("given", parameters.given, " AND kind = 'given'"),
        ]
        for (parameter, values, kind) in nameParameters {
            for value in values {
                try filter.add(parameter, value: value) { text in
                    let folded = ResourceIndexer.fold(text)
                    guard !folded.isEmpty else {
                        throw StoreError(
                            .invalidSearch, operation: "search",
                            message: "parameter \(parameter) has an empty value")
                    }
                    let sql =
                        "r.id IN (SELECT patient_id FROM patient_name "
                        + "WHERE value >= ? AND value < ?" + kind + ")"
                    return (sql, [.text(folded), .text(folded + "\u{10FFFF}")])
                }
            }
        }
        for value in parameters.birthdate {
            try filter.add("birthdate", value: value, fragment: birthdateFragment)
        }
        for value in parameters.gender {
            try filter.add("gender", value: value) { code in
                ("r.id IN (SELECT id FROM patient_search WHERE gender = ?)", [.text(code)])
            }
        }
        for value in parameters.identifier {
            try filter.add("identifier", value: value, fragment: identifierFragment)
        }
        if let allowed = parameters.restrictToIDs {
            filter.restrict(sql: "r.id IN (SELECT value FROM json_each(?))", argument: .text(jsonArray(allowed)))
        }
        return filter
    }

    /// FHIR date comparison of the patient's birth range [low, high] with the value's range.
    private static func birthdateFragment(_ value: String) throws
        -> (sql: String, arguments: [SQLiteValue])
    {
        let prefixes = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"]
        let prefix = prefixes.first { value.hasPrefix($0) }
        let date = prefix.map { String(value.dropFirst($0.count)) } ?? value
        guard let range = FHIRDateRange(date) else {
            throw StoreError(
                .invalidSearch, operation: "search",
                message: "birthdate must be a FHIR date with an optional prefix "
                    + prefixes.joined(separator: ", "))
        }
        let condition: String
        let bounds: [String]
        switch prefix ?? "eq" {
        case "ne":
            condition = "NOT (birth_low >= ? AND birth_high <= ?)"
            bounds = [range.low, range.high]
        case "gt": (condition, bounds) = ("birth_high > ?", [range.high])
        case "lt": (condition, bounds) = ("birth_low < ?", [range.low])
        case "ge": (condition, bounds) = ("birth_high >= ?", [range.low])
        case "le": (condition, bounds) = ("birth_low <= ?", [range.high])
        case "sa": (condition, bounds) = ("birth_low > ?", [range.high])
        case "eb": (condition, bounds) = ("birth_high < ?", [range.low])
        default:
            condition = "birth_low >= ? AND birth_high <= ?"
            bounds = [range.low, range.high]
        }
        let sql = "r.id IN (SELECT id FROM patient_search WHERE " + condition + ")"
        return (sql, bounds.map(SQLiteValue.text))
    }

    private static func identifierFragment(_ token: String) throws
        -> (sql: String, arguments: [SQLiteValue])
    {
        let base = "r.id IN (SELECT id FROM resource_identifier WHERE type = 'Patient'"
        guard let bar = token.firstIndex(of: "|") else {
            return (base + " AND value = ?)", [.text(token)])
        }
        let system = String(token[..<bar])
        let value = String(token[token.index(after: bar)...])
        guard !system.isEmpty || !value.isEmpty else {
            throw StoreError(
                .invalidSearch, operation: "search", message: "identifier has no system or value")
        }
        if value.isEmpty {
            return (base + " AND system = ?)", [.text(system)])
        }
        return (base + " AND value = ? AND system = ?)", [.text(value), .text(system)])
    }
}

/// A JSON array of strings, for binding a list as one parameter to `json_each`.
func jsonArray(_ values: [String]) -> String {
    var out = "["
    for (index, value) in values.enumerated() {
        if index > 0 { out += "," }
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = Array("0123456789abcdef")
                out += "\\u00" + String(hex[Int(scalar.value >> 4)]) + String(hex[Int(scalar.value & 0xF)])
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
    return out + "]"
}
