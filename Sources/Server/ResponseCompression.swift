import Compression
import HTTP

/// Decides whether a response is worth gzip and whether the client takes it, and applies it.
///
/// Runs where the handler ran (a worker for anything large), never on the event loop's hot path
/// for big bodies.
public enum ResponseCompression {
    /// Bodies smaller than this are sent as they are: the gzip header would eat the gain.
    public static let minimumBytes = 1024

    /// True when an Accept-Encoding value admits gzip with a non-zero quality.
    public static func acceptsGzip(_ acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        var gzipQuality: Double?
        var wildcardQuality: Double?
        for member in acceptEncoding.split(separator: ",") {
            let parts = member.split(separator: ";")
            guard let coding = parts.first?.trimmingSpaces().lowercased(), !coding.isEmpty else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.trimmingSpaces()
                guard pair.lowercased().hasPrefix("q=") else { continue }
                quality = Double(pair.dropFirst(2)) ?? 0
            }
            if coding == "gzip" || coding == "x-gzip" { gzipQuality = max(gzipQuality ?? 0, quality) }
            if coding == "*" { wildcardQuality = quality }
        }
        return (gzipQuality ?? wildcardQuality ?? 0) > 0
    }

    /// Media types that compress well.
    static func isCompressible(_ contentType: String?) -> Bool {
        guard let type = contentType?.lowercased() else { return false }
        return type.hasPrefix("text/") || type.contains("json") || type.contains("xml")
    }

    /// Compresses `response` in place when the request accepts gzip and the body is worth it.
    public static func apply(to response: inout Response, acceptEncoding: String?) {
        guard response.body.count >= minimumBytes, response.headers["Content-Encoding"] == nil,
            isCompressible(response.headers["Content-Type"])
        else { return }
        response.headers.add(name: "Vary", value: "Accept-Encoding")
        guard acceptsGzip(acceptEncoding) else { return }
        do {
            response.body = try Gzip.compress(response.body)
            response.headers.add(name: "Content-Encoding", value: "gzip")
        } catch {
            // Compression is an optimisation: on failure the identity body is still correct.
            return
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    public func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
