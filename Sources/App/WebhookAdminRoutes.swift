import Audit
import Foundation
import Policy
import Server
import Support
import Webhooks

/// Webhook subscribers and the dead-letter queue, for security-admins.
struct WebhookAdminRoutes {
    let pool: RecordsPool
    let trail: AuditTrail

    func routes(authentication: AuthenticationMiddleware) -> [Route] {
        let guarded = [authentication] as [any Middleware]
        return [
            Route("GET", "/admin/webhooks", middleware: guarded) { request in
                try guardedCall(request, .manageWebhooks, "admin.webhooks_list") { _ in try list() }
            },
            Route("POST", "/admin/webhooks", middleware: guarded) { request in
                try guardedCall(request, .manageWebhooks, "admin.webhook_add") { try add(request, details: &$0) }
            },
            Route("DELETE", "/admin/webhooks/{id}", middleware: guarded) { request in
                try guardedCall(request, .manageWebhooks, "admin.webhook_remove") { _ in try remove(request) }
            },
            Route("GET", "/admin/webhooks/dead-letters", middleware: guarded) { request in
                try guardedCall(request, .viewDeadLetters, "admin.dead_letters") { _ in try deadLetters() }
            },
        ]
    }

    /// Decides, runs `body` only when allowed, and records the outcome with its real status.
    /// `body` adds to the entry's details what it changed (never a secret); the path
    /// parameters are there already.
    private func guardedCall(
        _ request: Request, _ action: Action, _ event: String,
        _ body: (inout [String: String]) throws -> Response
    ) throws -> Response {
        let caller = try request.caller
        let decision = try trail.authorize(
            request, caller, action, event: event, refusal: "Webhooks are administered by security-admins.")
        var details = request.pathParameters
        func entry(_ status: Int, _ refused: Bool) -> AuditEntry? {
            trail.entry(
                request, caller: caller, event: event, action: action.name, status: status, refused: refused,
                decision: decision, details: details)
        }
        return try trail.recordingOutcome(entry) { try body(&details) }
    }

    static func summaryJSON(_ summary: SubscriberSummary) -> String {
        var out = JSONObjectWriter()
        out.add("id", summary.id)
        out.add("url", summary.url.absoluteString)
        out.add(raw: "events", "[" + summary.events.sorted().map(JSONText.quoted).joined(separator: ",") + "]")
        out.add("source", summary.source.rawValue)
        out.add(raw: "disabled", summary.disabled ? "true" : "false")
        out.add("secret_fingerprint", summary.secretFingerprint)
        return out.text
    }

    private func list() throws -> Response {
        let subscribers = try pool.with { try $0.subscribers.list() }
        return Response.json(200, "{\"webhooks\":[" + subscribers.map(Self.summaryJSON).joined(separator: ",") + "]}")
    }

    /// Adds a subscriber; its id, URL and event types go into `details` for the audit entry.
    private func add(_ request: Request, details: inout [String: String]) throws -> Response {
        let fields = try AuthRoutes.jsonObject(request, members: ["url", "events"])
        guard let urlText = fields["url"]?.stringValue else { throw HTTPProblem.badRequest("url is required.") }
        var events: Set<String> = ["*"]
        if let listed = fields["events"] {
            guard case .array(let items) = listed, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) else {
                throw HTTPProblem.badRequest("events is a non-empty list of event types.")
            }
            events = Set(items.compactMap(\.stringValue))
        }
        do {
            let url = try WebhookSubscriber.parseURL(urlText)
            let subscriber = try pool.with { try $0.subscribers.add(url: url, events: events) }
            details["id"] = subscriber.id
            details["url"] = subscriber.url.absoluteString
            details["events"] = events.sorted().joined(separator: ",")
            var out = JSONObjectWriter()
            out.add("id", subscriber.id)
            out.add("url", subscriber.url.absoluteString)
            out.add("secret", subscriber.secret.text)
            out.add("note", "The secret is shown once: verify deliveries with it (Standard Webhooks).")
            var response = Response.json(201, out.text)
            response.headers.add(name: "Cache-Control", value: "no-store")
            return response
        } catch let error as WebhookError {
            throw HTTPProblem.badRequest(error.message)
        }
    }

    private func remove(_ request: Request) throws -> Response {
        let id = request.pathParameters["id"]!
        do {
            try pool.with { try $0.subscribers.remove(id: id) }
        } catch let error as WebhookError {
            throw HTTPProblem(status: 404, detail: error.message)
        }
        return Response(status: 204)
    }

    private func deadLetters() throws -> Response {
        let letters = try pool.with { try DeliveryLog(database: $0.database).deadLetters() }
        let items = letters.map { letter -> String in
            var out = JSONObjectWriter()
            out.add("delivery_id", letter.id)
            out.add("event_id", letter.eventID)
            out.add("event_type", letter.eventType)
            out.add("subscriber", letter.subscriberID)
            out.add("attempts", Int64(letter.attempts))
            out.add("reason", letter.deadReason?.rawValue)
            out.add("last_error", letter.lastError)
            return out.text
        }
        return Response.json(200, "{\"dead_letters\":[" + items.joined(separator: ",") + "]}")
    }
}
