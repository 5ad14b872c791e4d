import Foundation
import Testing

@testable import Store

/// A directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-store-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        // Best effort: a leftover directory under /tmp is harmless and must not fail a test.
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// A record store over a fresh database file, kept together with its directory.
struct StoreFixture {
    let directory: TemporaryDirectory
    let store: RecordStore

    init(clock: @escaping () -> Date = Date.init) throws {
        directory = try TemporaryDirectory()
        let database = try Database(path: directory.path("records.sqlite"))
        store = try RecordStore(database: database, clock: clock)
    }
}

enum Fixtures {
    /// The repository root: this file is Tests/StoreTests/TestSupport.swift.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Synthea's sample output, shared beside the repository rather than copied into it.
    static let syntheaDirectory =
        repositoryRoot
        .appendingPathComponent("../shared/data/synthea-r4").standardizedFileURL

    /// The bundle files, hospital and practitioner bundles first as Synthea recommends.
    static let syntheaFiles: [URL] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: syntheaDirectory.path))
        let bundles = (names ?? []).filter { $0.hasSuffix(".json") }.sorted { left, right in
            let leftShared = isSharedBundle(left)
            return leftShared != isSharedBundle(right) ? leftShared : left < right
        }
        return bundles.map { syntheaDirectory.appendingPathComponent($0) }
    }()

    static var syntheaAvailable: Bool {
        !syntheaFiles.isEmpty
    }

    static func isSharedBundle(_ name: String) -> Bool {
        name.hasPrefix("hospitalInformation") || name.hasPrefix("practitionerInformation")
    }

    /// The first patient bundle (not a hospital or practitioner bundle).
    static var firstPatientFile: URL? {
        syntheaFiles.first { !isSharedBundle($0.lastPathComponent) }
    }

    static func jsonObject(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func entries(of bundle: [String: Any]) -> [[String: Any]] {
        bundle["entry"] as? [[String: Any]] ?? []
    }

    static func resource(of entry: [String: Any]) -> [String: Any] {
        entry["resource"] as? [String: Any] ?? [:]
    }

    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object)
    }
}
