import HTTP
import Store
import Support

/// A searchset Bundle around stored resources, with total and self/next/previous links.
///
/// Written by hand so that each stored resource's canonical bytes go into the body as they are.
struct SearchBundle {
    var baseURL: String
    var type: String
    var query: SearchQuery?
    var total: Int
    var resources: [StoredResource]
    var selfLink: String?

    func json() -> [UInt8] {
        var out = Array("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":".utf8)
        out += Array(String(total).utf8)
        out += Array(",\"link\":[".utf8)
        var links: [(String, String)] = []
        if let selfLink {
            links.append(("self", selfLink))
        } else if let query {
            links.append(("self", pageURL(query, offset: query.offset)))
            if query.offset + query.count < total && query.count > 0 {
                links.append(("next", pageURL(query, offset: query.offset + query.count)))
            }
            if query.offset > 0 {
                links.append(("previous", pageURL(query, offset: max(0, query.offset - query.count))))
            }
        }
        for (index, link) in links.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(
                ("{\"relation\":" + JSONText.quoted(link.0) + ",\"url\":" + JSONText.quoted(link.1) + "}").utf8)
        }
        out += Array("],\"entry\":[".utf8)
        for (index, resource) in resources.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let fullURL = baseURL + "/" + resource.type + "/" + resource.id
            out += Array(("{\"fullUrl\":" + JSONText.quoted(fullURL) + ",\"resource\":").utf8)
            out += resource.servedJSON()
            out += Array(",\"search\":{\"mode\":\"match\"}}".utf8)
        }
        out += Array("]}".utf8)
        return out
    }

    private func pageURL(_ query: SearchQuery, offset: Int) -> String {
        var url = baseURL + "/" + type + "?"
        for (name, value) in query.echoed {
            url += Self.encode(name) + "=" + Self.encode(value) + "&"
        }
        return url + "_count=\(query.count)&_offset=\(offset)"
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986).
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let unreserved =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}

/// The transaction-response Bundle for an imported transaction.
///
/// Each location is the resource's read URL, which this server answers; the version is in
/// the entry's `etag`, since there is no version-specific read (`_history`).
enum TransactionResponse {
    static func json(_ report: ImportReport) -> [UInt8] {
        var out = "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\",\"entry\":["
        for (index, entry) in report.resources.enumerated() {
            if index > 0 { out += "," }
            let status = entry.outcome == .created ? "201 Created" : "200 OK"
            out += "{\"response\":{\"status\":" + JSONText.quoted(status)
            out += ",\"location\":" + JSONText.quoted("\(entry.type)/\(entry.id)")
            out += ",\"etag\":" + JSONText.quoted("W/\"\(entry.version)\"") + "}}"
        }
        return Array((out + "]}").utf8)
    }
}
