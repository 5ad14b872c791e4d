import Audit
import Foundation
import Store
import Support
import Testing

@testable import App

/// What the operator and the load balancer see when the audit writer's health changes.
@Suite("Audit health")
struct AuditHealthTests {
    static let diskFull = AuditError(
        .writeFailed, operation: "append", message: "database or disk is full", storeCode: .diskFull)

    /// Each row: the changes in order, then the checks failing after them and the last line logged.
    static let cases: [(changes: [AuditWriter.HealthChange], failing: [String], message: String)] = [
        ([.writeFailed(diskFull)], ["audit_log"], "audit.unavailable"),
        ([.writeFailed(diskFull), .writable], [], "audit.recovered"),
        ([.queueFull], ["audit_queue"], "audit.queue_full"),
        ([.queueFull, .writeFailed(diskFull)], ["audit_log", "audit_queue"], "audit.unavailable"),
        ([.queueFull, .writeFailed(diskFull), .accepting], ["audit_log"], "audit.queue_drained"),
        ([.queueFull, .accepting], [], "audit.queue_drained"),
        ([.stalled], ["audit_commit"], "audit.stalled"),
        ([.stalled, .writeFailed(diskFull)], ["audit_commit", "audit_log"], "audit.unavailable"),
        ([.stalled, .moving], [], "audit.moving"),
    ]

    @Test("readiness and the log follow the writer's health", arguments: cases.indices)
    func follows(_ index: Int) throws {
        let row = Self.cases[index]
        let readiness = Readiness()
        let sink = MemoryLogSink()
        let logger = Logger(label: "test", sink: sink)
        for change in row.changes {
            AuditTrail.report(change, readiness, logger, capacity: 8, stallThresholdMilliseconds: 5000)
        }
        #expect(readiness.failingChecks == row.failing)
        let messages = try sink.recorded.map { line -> String in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object["msg"] as? String)
        }
        #expect(messages.count == row.changes.count, "one line per change")
        #expect(messages.last == row.message)
    }

    @Test("a failed write is logged with its cause, the queue with its capacity, a stall with its threshold")
    func causes() throws {
        let sink = MemoryLogSink()
        let logger = Logger(label: "test", sink: sink)
        let threshold: Int64 = 2500
        AuditTrail.report(.writeFailed(Self.diskFull), Readiness(), logger, capacity: 8, stallThresholdMilliseconds: threshold)
        AuditTrail.report(.queueFull, Readiness(), logger, capacity: 8, stallThresholdMilliseconds: threshold)
        AuditTrail.report(.stalled, Readiness(), logger, capacity: 8, stallThresholdMilliseconds: threshold)
        let lines = sink.recorded
        try #require(lines.count == 3)
        let failure = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(failure["error.code"] as? String == "write_failed")
        #expect(failure["error.store"] as? String == "disk_full")
        #expect(failure["error.operation"] as? String == "append")
        #expect(failure["error.message"] as? String == "database or disk is full")
        let full = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(full["audit.queue_capacity"] as? Int == 8)
        let stalled = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        #expect(stalled["audit.stall_threshold_ms"] as? Int == 2500)
    }
}
