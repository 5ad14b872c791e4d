import Audit
import Crypto
import Support
import Webhooks

/// Sends every signed checkpoint out as an `audit.checkpoint` webhook event, so that a copy of
/// the log's head lives off the machine, and makes sure at start-up that the newest one went.
///
/// A checkpoint reaches the outbox after the audit commit that signed it, in another database:
/// a crash in between, or a failed insert, would leave it unsent. Checkpoints are cumulative
/// (the newest covers every entry before it), so raising the newest one again at start-up when
/// it is missing is enough for a receiver to anchor the whole log. Each event's id is derived
/// from the checkpoint, so that the same checkpoint is never raised twice.
struct CheckpointAlerts: Sendable {
    let pool: RecordsPool
    let alerts: Alerts
    let logger: Logger

    /// The webhook event for `checkpoint`: its size, head and signed note, stamped with the
    /// time it was signed, under an id that only this checkpoint of this log has.
    static func event(for checkpoint: Checkpoint) throws(WebhookError) -> WebhookEvent {
        var payload = JSONObjectWriter()
        payload.add("size", checkpoint.size)
        payload.add("head_hash", Base64.encode(checkpoint.headHash))
        payload.add("signed_at", checkpoint.signedAt)
        payload.add("signed_note", checkpoint.signedNote)
        let identity = Array("\(WebhookEventType.auditCheckpoint)\n\(checkpoint.origin)\n\(checkpoint.size)\n".utf8)
        let id = "msg_" + Base64URL.encode(Array(SHA256.hash(identity + checkpoint.headHash).prefix(18)))
        return try WebhookEvent(
            id: id, type: WebhookEventType.auditCheckpoint, timestamp: checkpoint.signedAt / 1000,
            payload: payload.bytes)
    }

    /// Adds `checkpoint`'s event to the outbox unless it is there already; true when added.
    /// A failure is logged (with the size only) and leaves the event for the next start.
    @discardableResult
    func raise(_ checkpoint: Checkpoint) -> Bool {
        do {
            let event = try Self.event(for: checkpoint)
            try pool.with { session in try alerts.enqueue(event, in: session.database) }
            alerts.deliverSoon()
            return true
        } catch let error as WebhookError where error.code == .duplicateEvent {
            return false
        } catch {
            logger.error("webhooks.checkpoint_enqueue_failed", ["audit.size": .int(Int(checkpoint.size))])
            return false
        }
    }

    /// Raises the newest stored checkpoint if its event is missing (see the type's comment).
    func raiseNewest(from reader: AuditReader) {
        do {
            guard let newest = try reader.newestCheckpoint() else { return }
            if raise(newest) {
                logger.notice("webhooks.checkpoint_reraised", ["audit.size": .int(Int(newest.size))])
            }
        } catch {
            logger.error("webhooks.checkpoint_enqueue_failed", ["error.message": .string(error.message)])
        }
    }
}
