import Audit
import Auth
import BreakGlass
import Policy
import Server
import Store
import Support
import Webhooks

/// Break-glass: the one explicit way around least privilege, and its review.
///
/// Activation needs a clinician, a reason from the fixed list, a written justification, an
/// acknowledgement and a fresh TOTP code. The grant, its review entry and its alert commit in
/// one transaction, and the audit entry is durable before that commit; the response goes out
/// only after both.
struct BreakGlassRoutes {
    let pool: RecordsPool
    let trail: AuditTrail
    let alerts: Alerts
    let logger: Logger

    func routes(authentication: AuthenticationMiddleware) -> [Route] {
        let guarded = [authentication] as [any Middleware]
        return [
            Route("POST", "/break-glass", middleware: guarded) { request in try activate(request) },
            Route("GET", "/break-glass", middleware: guarded) { request in try list(request) },
            Route("DELETE", "/break-glass/{id}", middleware: guarded) { request in try end(request) },
            Route("GET", "/reviews", middleware: guarded) { request in try reviews(request) },
            Route("POST", "/reviews/{id}", middleware: guarded) { request in try review(request) },
            Route("POST", "/auth/totp/enroll", middleware: guarded) { request in try enroll(request) },
            Route("POST", "/auth/totp/confirm", middleware: guarded) { request in try confirm(request) },
        ]
    }

    // MARK: - Activation

    func activate(_ request: Request) throws -> Response {
        try trail.audited(request, event: "break_glass.activate", action: Action.activateBreakGlass.name) {
            caller, note in
            try activate(request, caller, &note)
        }
    }

    private func activate(_ request: Request, _ caller: Caller, _ note: inout AuditNote) throws -> Response {
        let now = trail.now / 1000
        let decision = try trail.decide(
            caller, .activateBreakGlass, note: &note, refusal: "Only clinicians may activate break-glass.")
        let fields = try AuthRoutes.jsonObject(
            request, members: ["patient", "reason", "justification", "totp", "acknowledge", "duration_minutes"])
        let holder = caller.effectiveAccount
        let activation = ActivationRequest(
            patientID: fields["patient"]?.stringValue ?? "", reason: fields["reason"]?.stringValue ?? "",
            justification: fields["justification"]?.stringValue ?? "",
            acknowledged: fields["acknowledge"]?.boolValue ?? false,
            durationMinutes: fields["duration_minutes"]?.intValue.map { Int(clamping: $0) })
        let code = fields["totp"]?.stringValue ?? ""
        // Only a well-formed id goes into the entry: the body is the caller's text, not yet checked.
        if FHIRSyntax.isValidID(activation.patientID) { note.patient = activation.patientID }

        return try pool.with { session in
            do {
                if let duration = fields["duration_minutes"], duration.intValue == nil {
                    let maximum = session.grants.policy.maximumMinutes
                    throw BreakGlassError(.invalidDuration, "a break-glass grant lasts 1 to \(maximum) minutes")
                }
                try session.grants.precheck(activation, holder: holder.principal, now: now)
                // Every check of the request comes before the code is spent. A missing patient is
                // answered only after the code is checked, so that the 404 still needs a valid code,
                // but that code is left unspent for the corrected retry.
                let patientExists =
                    try session.records.storedResource(type: "Patient", id: activation.patientID) != nil
                let step = try verifySecondFactor(session, request, caller, code, spending: patientExists)
                guard patientExists else { throw HTTPProblem.notFound("No patient with that id.") }
                var subscribers = 0
                let grant = try session.grants.activate(
                    activation, holder: holder.principal, secondFactorStep: step, now: now
                ) { grant in
                    var payload = JSONObjectWriter()
                    payload.add("grant_id", grant.id)
                    payload.add("user", grant.holder)
                    payload.add("proxy", caller.onBehalfOf != nil ? caller.account.username : nil)
                    payload.add("patient", grant.patientID)
                    // The justification is free text that may describe the patient's condition: it
                    // stays in the audit log and the review queue, never in an alert.
                    payload.add("reason", grant.reason.rawValue)
                    payload.add("activated_at", grant.createdAt)
                    payload.add("expires_at", grant.expiresAt)
                    payload.add("request_id", request.requestID)
                    subscribers = try alerts.enqueue(
                        WebhookEventType.breakGlassActivated, payload: payload, in: session.database)
                    var entry = trail.entry(
                        request, caller: caller, event: "break_glass.activate", action: Action.activateBreakGlass.name,
                        status: 201, decision: decision, patient: grant.patientID)
                    entry.grant = grant.id
                    entry.purpose = Purpose.breakGlass.rawValue
                    entry.reason = grant.reason.rawValue
                    entry.justification = grant.justification
                    entry.details = ["expires_at": WallClock.iso8601(unixSeconds: grant.expiresAt)]
                    try trail.record(entry)
                    note.recorded = true
                }
                alerts.deliverSoon()
                logger.notice("break_glass.activated", ["grant.id": .string(grant.id), "user": .string(grant.holder)])
                return Response.json(201, Self.grantJSON(grant, warning: Self.warning(grant, alerted: subscribers)))
            } catch let error as BreakGlassError {
                note.details["error"] = error.code.description
                throw Self.problem(error)
            }
        }
    }

    /// Checks the TOTP code, marking it used only when `spending`; a replayed code and a
    /// second-factor lockout raise alerts.
    private func verifySecondFactor(
        _ session: RecordsSession, _ request: Request, _ caller: Caller, _ code: String, spending: Bool
    ) throws -> UInt64 {
        let username = caller.effectiveAccount.username
        let outcome: Result<UInt64, BreakGlassError>
        do throws(BreakGlassError) {
            outcome = .success(try session.secondFactor.verify(username, code: code, spending: spending))
        } catch {
            outcome = .failure(error)
        }
        if case .failure(let error) = outcome, error.code == .replayed || error.lockoutStarted {
            try raiseFactorAlert(
                session, request, username: username, replayed: error.code == .replayed, lockedUntil: error.lockedUntil)
        }
        return try outcome.get()
    }

    private func raiseFactorAlert(
        _ session: RecordsSession, _ request: Request, username: String, replayed: Bool, lockedUntil: Int64?
    ) throws {
        var payload = JSONObjectWriter()
        payload.add("user", username)
        payload.add("factor", "totp")
        payload.add("cause", replayed ? "replayed_code" : "too_many_wrong_codes")
        payload.add("request_id", request.requestID)
        if let lockedUntil { payload.add("locked_until", lockedUntil) }
        try session.database.transaction {
            try alerts.enqueue(WebhookEventType.authLockout, payload: payload, in: session.database)
        }
        alerts.deliverSoon()
        logger.warning(replayed ? "auth.totp_replayed" : "auth.totp_lockout", ["user": .string(username)])
    }

    /// What the clinician is told: the grant's scope and end, and exactly who learns of it.
    static func warning(_ grant: Grant, alerted subscribers: Int) -> String {
        let alert =
            subscribers > 0
            ? "security and compliance have been alerted (\(subscribers) alert subscriber"
                + (subscribers == 1 ? ")" : "s)")
            : "no alert subscriber is configured, so the activation waits in the review queue"
        return "Break-glass access to patient \(grant.patientID) is active until "
            + WallClock.iso8601(unixSeconds: grant.expiresAt) + ". It applies only to requests that send "
            + "X-Break-Glass: \(grant.id). Every access under it is recorded in the audit log with your reason and "
            + "justification; " + alert + ", and compliance will review this grant."
    }

    static func grantJSON(
        _ grant: Grant, warning: String? = nil, now: Int64? = nil, withJustification: Bool = true
    ) -> String {
        var out = JSONObjectWriter()
        out.add("id", grant.id)
        out.add("patient", grant.patientID)
        out.add("holder", grant.holder)
        out.add("reason", grant.reason.rawValue)
        if withJustification { out.add("justification", grant.justification) }
        out.add("activated_at", WallClock.iso8601(unixSeconds: grant.createdAt))
        out.add("expires_at", WallClock.iso8601(unixSeconds: grant.expiresAt))
        if let ended = grant.endedAt { out.add("ended_at", WallClock.iso8601(unixSeconds: ended)) }
        out.add("ended_by", grant.endedBy)
        if let now { out.add("status", grant.status(at: now).rawValue) }
        out.add("warning", warning)
        return out.text
    }

    // MARK: - Listing and ending

    /// A clinician's own grants, in any status; for a security administrator everyone's active
    /// grants, or with `status=all` the most recent 500 in any status. An administrator's
    /// listing leaves out the justifications, which are for the review queue and the audit log.
    func list(_ request: Request) throws -> Response {
        try trail.audited(request, event: "break_glass.list", action: "break_glass.list") { caller, note in
            let now = trail.now / 1000
            let decision = try trail.decide(
                caller, .listOwnGrants, note: &note,
                refusal: "Only clinicians and security-admins list break-glass grants.")
            let everyone = decision.rule == PolicyRule.securityAdminListGrants.rawValue
            var activeOnly = false
            if everyone {
                switch request.queryItems?.first(where: { $0.name == "status" })?.value {
                case nil, "active": activeOnly = true
                case "all": activeOnly = false
                default: throw HTTPProblem.badRequest("status is active or all.")
                }
            }
            let grants = try pool.with { session in
                if !everyone { return try session.grants.all(holder: caller.effectiveAccount.username) }
                return activeOnly
                    ? try session.grants.active(holder: nil, now: now)
                    : try session.grants.all(holder: nil, limit: 500)
            }
            note.details["count"] = String(grants.count)
            let items = grants.map { Self.grantJSON($0, now: now, withJustification: !everyone) }
            return Response.json(200, "{\"grants\":[" + items.joined(separator: ",") + "]}")
        }
    }

    /// The holder a grant that does not exist is decided for: no account is named so (names
    /// start with a letter or digit). Deciding as for a real grant of someone else gives the
    /// caller who may not end or review another's grant the same refusal whether the id exists
    /// or not, as FHIR reads refuse a missing record like an existing one; only a caller the
    /// policy lets act on any grant learns that it does not exist (404).
    static let nobody = "~nobody"

    /// The grant a `{id}` path names, noted for the entry; a malformed id is a 400 that the
    /// entry describes without repeating it.
    private static func grantID(_ request: Request, note: inout AuditNote) throws -> String {
        let id = request.pathParameters["id"]!
        guard GrantStore.isWellFormedID(id) else {
            note.details["break_glass"] = "malformed grant id"
            throw HTTPProblem.badRequest("That is not a grant id.")
        }
        note.grant = id
        return id
    }

    /// The grant `id` names, or nil; a missing one is noted for the entry.
    private static func grant(_ id: String, in session: RecordsSession, note: inout AuditNote) throws -> Grant? {
        let existing = try session.grants.grant(id)
        if existing == nil { note.details["reason"] = "no_such_grant" }
        return existing
    }

    func end(_ request: Request) throws -> Response {
        try trail.audited(request, event: "break_glass.end", action: "break_glass.end") { caller, note in
            let id = try Self.grantID(request, note: &note)
            let now = trail.now / 1000
            return try pool.with { session in
                let existing = try Self.grant(id, in: session, note: &note)
                _ = try trail.decide(
                    caller, .endGrant(holder: existing?.holder ?? Self.nobody), note: &note,
                    refusal: "You hold no grant with that id; only its holder or a security-admin ends a grant.")
                _ = try request.parameters(accepted: [])
                guard existing != nil else { throw HTTPProblem.notFound("No such grant.") }
                do {
                    let grant = try session.grants.end(id, by: caller.effectiveAccount.principal, now: now) { grant in
                        var payload = JSONObjectWriter()
                        payload.add("grant_id", grant.id)
                        payload.add("user", grant.holder)
                        payload.add("patient", grant.patientID)
                        payload.add("ended_by", grant.endedBy)
                        payload.add("ended_at", grant.endedAt ?? now)
                        try alerts.enqueue(WebhookEventType.breakGlassEnded, payload: payload, in: session.database)
                        try recordChange(request, caller, "break_glass.end", 200, patient: grant.patientID, &note)
                    }
                    alerts.deliverSoon()
                    return Response.json(200, Self.grantJSON(grant, now: now))
                } catch let error as BreakGlassError {
                    throw Self.problem(error)
                }
            }
        }
    }

    // MARK: - Reviews

    /// Reviews listed per request when the query names no `limit`, and the most it may name.
    static let reviewPage = (standard: 500, maximum: 1000)

    func reviews(_ request: Request) throws -> Response {
        try trail.audited(request, event: "review.list", action: "review.list") { caller, note in
            let now = trail.now / 1000
            _ = try trail.decide(caller, .listReviews, note: &note, refusal: "Reviews are for compliance accounts.")
            let (status, limit) = try Self.reviewQuery(request)
            // One more than asked for tells whether the list was cut short.
            var list = try pool.with { try $0.reviews.list(status: status, limit: limit + 1) }
            let more = list.count > limit
            list = Array(list.prefix(limit))
            let items = list.map { Self.reviewJSON($0, now: now) }
            return Response.json(
                200, "{\"more\":\(more),\"reviews\":[" + items.joined(separator: ",") + "]}")
        }
    }

    /// `status` and `limit` from the query of `GET /reviews`; anything else, a repeated name or
    /// a value outside its set is a 400, as on the audit endpoints.
    static func reviewQuery(_ request: Request) throws -> (ReviewStatus?, limit: Int) {
        var status: ReviewStatus?
        var limit = reviewPage.standard
        for (name, value) in try request.parameters(accepted: ["status", "limit"]) {
            if name == "status" {
                guard let parsed = ReviewStatus(rawValue: value) else {
                    throw HTTPProblem.badRequest("status is pending, needs-follow-up or completed.")
                }
                status = parsed
            } else {
                guard let count = Int(value), (1...reviewPage.maximum).contains(count) else {
                    throw HTTPProblem.badRequest("limit is a number from 1 to \(reviewPage.maximum).")
                }
                limit = count
            }
        }
        return (status, limit)
    }

    static func reviewJSON(_ review: Review, now: Int64) -> String {
        var out = JSONObjectWriter()
        out.add(raw: "grant", grantJSON(review.grant, now: now))
        out.add("status", review.status.rawValue)
        out.add("due_at", WallClock.iso8601(unixSeconds: review.dueAt))
        out.add(raw: "overdue", review.isOverdue(at: now) ? "true" : "false")
        let decisions = review.decisions.map { d -> String in
            var item = JSONObjectWriter()
            item.add("reviewer", d.reviewer)
            item.add("disposition", d.disposition.rawValue)
            item.add("notes", d.notes)
            item.add("decided_at", WallClock.iso8601(unixSeconds: d.decidedAt))
            return item.text
        }
        out.add(raw: "decisions", "[" + decisions.joined(separator: ",") + "]")
        return out.text
    }

    /// The policy decides before the body is read, so that whoever may not review learns
    /// nothing from the answer about the grant or the body.
    func review(_ request: Request) throws -> Response {
        try trail.audited(request, event: "review.complete", action: "review.complete") { caller, note in
            let id = try Self.grantID(request, note: &note)
            let now = trail.now / 1000
            return try pool.with { session in
                let existing = try Self.grant(id, in: session, note: &note)
                _ = try trail.decide(caller, .reviewGrant(holder: existing?.holder ?? Self.nobody), note: &note) {
                    $0.rule == PolicyRule.denySelfReview.rawValue
                        ? "Nobody reviews their own break-glass grant." : "Reviews are for compliance accounts."
                }
                guard let grant = existing else { throw HTTPProblem.notFound("No such grant.") }
                let (disposition, notes) = try Self.reviewFields(request)
                note.details["disposition"] = disposition.rawValue
                do {
                    let result = try session.reviews.review(
                        id, reviewer: caller.effectiveAccount.principal, disposition: disposition, notes: notes,
                        now: now
                    ) { review in
                        var payload = JSONObjectWriter()
                        payload.add("grant_id", id)
                        payload.add("user", grant.holder)
                        payload.add("reviewer", caller.effectiveAccount.username)
                        payload.add("disposition", disposition.rawValue)
                        payload.add("status", review.status.rawValue)
                        try alerts.enqueue(WebhookEventType.reviewCompleted, payload: payload, in: session.database)
                        try recordChange(request, caller, "review.complete", 200, patient: grant.patientID, &note)
                    }
                    alerts.deliverSoon()
                    return Response.json(200, Self.reviewJSON(result, now: now))
                } catch let error as BreakGlassError {
                    throw Self.problem(error)
                }
            }
        }
    }

    /// The disposition and notes of a review body; a 400 for anything else.
    private static func reviewFields(_ request: Request) throws -> (Disposition, String) {
        let fields = try AuthRoutes.jsonObject(request, members: ["disposition", "notes"])
        guard let name = fields["disposition"]?.stringValue, let disposition = Disposition(rawValue: name) else {
            throw HTTPProblem.badRequest("disposition is justified, unjustified or needs-follow-up.")
        }
        guard let given = fields["notes"] else { return (disposition, "") }
        guard let notes = given.stringValue else { throw HTTPProblem.badRequest("notes is a string.") }
        return (disposition, notes)
    }

    // MARK: - TOTP enrolment

    func enroll(_ request: Request) throws -> Response {
        try trail.audited(request, event: "auth.totp_enroll", action: "auth.totp_enroll") { caller, _ in
            guard caller.account.role != .ehrSystem, caller.onBehalfOf == nil else {
                throw Denial(status: 403, detail: "Service accounts have no second factor.")
            }
            do {
                let enrollment = try pool.with { try $0.secondFactor.provision(caller.account.username) }
                var out = JSONObjectWriter()
                out.add("secret", enrollment.secretBase32)
                out.add("otpauth_uri", enrollment.otpauthURI)
                var response = Response.json(200, out.text)
                response.headers.add(name: "Cache-Control", value: "no-store")
                return response
            } catch let error as BreakGlassError {
                throw Self.problem(error)
            }
        }
    }

    func confirm(_ request: Request) throws -> Response {
        try trail.audited(request, event: "auth.totp_confirm", action: "auth.totp_confirm") { caller, _ in
            let fields = try AuthRoutes.jsonObject(request, members: ["code"])
            let code = fields["code"]?.stringValue ?? ""
            do {
                _ = try pool.with { try $0.secondFactor.confirm(caller.account.username, code: code) }
                return Response.json(200, "{\"confirmed\":true}")
            } catch let error as BreakGlassError {
                throw Self.problem(error)
            }
        }
    }

    // MARK: - Shared

    /// Records the entry of a change inside the transaction that makes it, so that the change
    /// never commits without its entry, and tells `audited` through `note` that it is made.
    private func recordChange(
        _ request: Request, _ caller: Caller, _ event: String, _ status: Int, patient: String?,
        _ note: inout AuditNote
    ) throws {
        var entry = trail.entry(
            request, caller: caller, event: event, action: event, status: status, decision: note.decision,
            patient: patient, details: note.details)
        entry.grant = note.grant ?? entry.grant
        try trail.record(entry)
        note.recorded = true
    }

    /// The client-facing form of a break-glass refusal; messages are the engine's safe ones. A
    /// code that the second factor or the engine's own rules refused is a `Denial` (recorded as
    /// `denied`), like a wrong password; a malformed request, a conflict or a failure is not.
    static func problem(_ error: BreakGlassError) -> any HTTPResponseError {
        let problem = httpProblem(error)
        switch error.code {
        case .wrongCode, .replayed, .factorLocked, .notEnrolled, .notPermitted, .selfReview:
            return Denial(problem)
        default:
            return problem
        }
    }

    private static func httpProblem(_ error: BreakGlassError) -> HTTPProblem {
        switch error.code {
        case .malformedCode:
            return HTTPProblem.badRequest("totp must be exactly six digits from your authenticator.")
        case .wrongCode, .replayed:
            return HTTPProblem(status: 403, detail: "The second factor was not accepted.")
        case .factorLocked:
            let wait = max(1, (error.lockedUntil ?? 0) - WallClock().unixSeconds())
            return HTTPProblem(
                status: 429, detail: "Too many wrong codes; the second factor is locked for a while.",
                headers: [("Retry-After", String(wait))])
        case .notEnrolled:
            return HTTPProblem(
                status: 403, detail: "Enroll a second factor first: POST /auth/totp/enroll, then /auth/totp/confirm.")
        case .alreadyEnrolled:
            return HTTPProblem(
                status: 409, detail: "A confirmed second factor exists; ask a security-admin to reissue it.")
        case .issuedByAdministrator:
            return HTTPProblem(
                status: 409,
                detail: "Your administrator issued a second factor for this account: confirm it with a code "
                    + "from it (POST /auth/totp/confirm), or ask a security-admin to reset it.")
        case .tooManyActiveGrants, .alreadyActive, .notActive, .alreadyReviewed:
            var detail = error.message
            if let grant = error.grantID { detail += " (grant \(grant))" }
            return HTTPProblem(status: 409, detail: detail)
        case .notPermitted, .selfReview:
            return HTTPProblem(status: 403, detail: error.message)
        case .notFound:
            return HTTPProblem.notFound(error.message)
        case .storage, .invalidPolicy, .invalidKey, .unknownUser:
            return HTTPProblem(status: 500, detail: "The break-glass store failed; quote the request id.")
        default:
            return HTTPProblem.badRequest(error.message)
        }
    }
}
