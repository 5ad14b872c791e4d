import Crypto
#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Store
import Synchronization
import Testing

@testable import Audit

/// A directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-audit-tests-" + UUID().uuidString).path
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        // Best effort: a leftover directory under /tmp is harmless and must not fail a test.
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String {
        path + "/" + name
    }

    /// Paths of directories held by static fixtures, which are never released.
    private static let removedAtExit = Mutex<[String]>([])

    /// Removes this directory when the test process exits: for fixtures kept in a `static`.
    func removeAtExit() {
        let first = Self.removedAtExit.withLock { paths in
            paths.append(path)
            return paths.count == 1
        }
        if first {
            atexit {
                for path in TemporaryDirectory.removedAtExit.withLock({ $0 }) {
                    // Best effort, as in deinit.
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
        }
    }
}

enum Samples {
    /// A signing key with a fixed seed, so failures reproduce.
    static let signingKey: AuditSigningKey = {
        let seed = [UInt8](repeating: 7, count: 32)
        // A 32-byte seed is always accepted.
        let key = try! Ed25519PrivateKey(rawSeed: seed)
        return AuditSigningKey(privateKey: key, keyName: "phigate.test/audit")
    }()

    static let otherKey: AuditSigningKey = {
        let key = try! Ed25519PrivateKey(rawSeed: [UInt8](repeating: 9, count: 32))
        return AuditSigningKey(privateKey: key, keyName: "phigate.test/audit")
    }()

    /// An access entry whose fields vary with `index`.
    static func entry(_ index: Int, details: [String: String] = [:]) -> AuditEntry {
        let patients = ["p1", "p2", "p3"]
        let actors = ["alice", "bob", "carol", "dave"]
        let allowed = index % 5 != 0
        return AuditEntry(
            time: 1_700_000_000_000 + Int64(index) * 1000, event: "fhir.read",
            actor: actors[index % actors.count], roles: ["clinician"], action: "read",
            outcome: allowed ? "allowed" : "denied", status: allowed ? 200 : 403,
            rule: allowed ? "care-relationship" : "no-relationship",
            patient: patients[index % patients.count],
            resources: allowed ? ["Observation/o\(index)"] : [],
            purpose: "treatment", requestID: "req-\(index)", client: "127.0.0.1",
            userAgent: "curl/8.5", details: details)
    }

    static func configuration(
        _ directory: TemporaryDirectory, checkpointEvery: Int64 = 1000,
        maxGroupSize: Int = 1024, queueCapacity: Int = 16_384,
        checkpointInterval: Duration = .seconds(3600), probe: Duration = .seconds(3600)
    ) -> AuditWriterConfiguration {
        AuditWriterConfiguration(
            path: directory.file("audit.sqlite"), origin: "phigate.test/audit",
            maxGroupSize: maxGroupSize, queueCapacity: queueCapacity,
            checkpointEvery: checkpointEvery, checkpointInterval: checkpointInterval,
            recoveryProbeInterval: probe)
    }
}

/// Collects callback values from the writer's callback queue.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func record(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    var all: [Value] {
        values.withLock { $0 }
    }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() {
            return true
        }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return condition()
}
