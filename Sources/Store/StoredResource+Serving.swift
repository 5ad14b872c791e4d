extension StoredResource {
    /// The resource as served: the stored canonical JSON with `meta.versionId` and
    /// `meta.lastUpdated` put back from the columns, in the same canonical member order.
    ///
    /// Falls back to the stored bytes only if they no longer parse, which the import path
    /// makes impossible for anything it wrote.
    public func servedJSON() -> [UInt8] {
        guard case .object(var object) = try? JSONParser.parse(json) else { return json }
        var meta = object["meta"]?.objectValue ?? JSONObject()
        meta["versionId"] = .string(String(version))
        meta["lastUpdated"] = .string(lastUpdated)
        object["meta"] = .object(meta)
        return CanonicalJSON.resourceBytes(object)
    }
}
