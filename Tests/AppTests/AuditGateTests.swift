import Audit
import Foundation
import Server
import Support
import Synchronization
import Testing

@testable import App

/// The gate that holds a disclosure back until its audit entry is durable.
@Suite("Audit gate")
struct AuditGateTests {
    /// Collects what a gate hands to `open`, and how often the failure was rendered.
    final class Outcome: Sendable {
        let rendered = Mutex(0)
        let opened = DispatchSemaphore(value: 0)
        let replacement = Mutex<Int?>(nil)

        func failure() -> Response {
            rendered.withLock { $0 += 1 }
            return Response.json(503, "{}")
        }

        func wait(for gate: any ResponseGate) -> Bool {
            gate.wait { response in
                self.replacement.withLock { $0 = response?.status }
                self.opened.signal()
            }
            return opened.wait(timeout: .now() + 10) == .success
        }
    }

    static func trail(in directory: String) throws -> AuditTrail {
        let configuration = try ConfigurationLoader.load(file: nil, environment: ["PHIGATE_DATA_DIR": directory])
        return try AuditTrail(
            configuration: configuration, readiness: Readiness(),
            logger: Logger(label: "test", minimumLevel: .critical),
            onCheckpoint: { _ in })
    }

    static func entry(_ trail: AuditTrail, _ id: String) -> AuditEntry {
        AuditEntry(
            time: trail.now, event: "fhir.read", actor: "tester", action: "read", outcome: "allowed",
            status: 200, requestID: id)
    }

    /// (writer closed before the append, status sent instead of the response, renders)
    static let cases: [(closed: Bool, replacement: Int?, renders: Int)] = [
        (false, nil, 0),
        (true, 503, 1),
    ]

    @Test("the failure response is rendered only when the entry cannot be made durable", arguments: cases)
    func lazyFailure(closed: Bool, replacement: Int?, renders: Int) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-gate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }  // best effort: a temp dir
        let trail = try Self.trail(in: directory)
        if closed { try trail.writer.close() }
        let outcome = Outcome()
        let gate = trail.gate(Self.entry(trail, "gate-test")) { outcome.failure() }
        #expect(outcome.wait(for: gate))
        #expect(outcome.replacement.withLock { $0 } == replacement)
        #expect(outcome.rendered.withLock { $0 } == renders)
        if !closed { try trail.writer.close() }
    }
}
