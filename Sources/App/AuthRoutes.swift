import Auth
import Server
import Support
import Webhooks

/// Password login, logout and "who am I", answered with JSON and problem+json errors.
struct AuthRoutes {
    let pool: RecordsPool
    let policy: AuthPolicy
    let trail: AuditTrail
    let sessions: SessionCache
    let alerts: Alerts
    let logger: Logger

    func routes(authentication: AuthenticationMiddleware) -> [Route] {
        [
            Route("POST", "/auth/login") { request in try login(request) },
            Route("POST", "/auth/logout", middleware: [authentication]) { request in try logout(request) },
            Route("GET", "/auth/me", middleware: [authentication]) { request in try me(request) },
        ]
    }

    /// The largest JSON body these small endpoints accept: parsing is the expensive step, so
    /// an oversized body is refused before it.
    static let maximumJSONBytes = 64 * 1024

    /// Reads a JSON object body; 413 when too large, 415 for other media types, 400 for
    /// anything malformed.
    ///
    /// With `members`, a member outside them is a 400 too, and so is a query string: a field
    /// spelt wrong (`note` for `notes`) must not be dropped silently.
    static func jsonObject(_ request: Request, members: [String]? = nil) throws -> [String: JSONValue] {
        if members != nil {
            _ = try request.parameters(accepted: [])
        }
        guard request.body.count <= maximumJSONBytes else {
            throw HTTPProblem(
                status: 413, detail: "This endpoint takes at most \(maximumJSONBytes / 1024) KiB of JSON.")
        }
        let mediaType = request.mediaType
        guard mediaType == "application/json" else {
            throw HTTPProblem(status: 415, detail: "Send the body as application/json.")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(request.body)
        } catch is JSONValue.DuplicateMember {
            throw HTTPProblem.badRequest("The body names a member twice; give each once.")
        } catch {
            throw HTTPProblem.badRequest("The body must be one JSON object.")
        }
        guard case .object(let fields) = parsed else {
            throw HTTPProblem.badRequest("The body must be one JSON object.")
        }
        if let members, !fields.keys.allSatisfy(members.contains) {
            // The unknown name is not echoed: it is the caller's text.
            throw HTTPProblem.badRequest("Unsupported member; the members are " + members.joined(separator: ", ") + ".")
        }
        return fields
    }

    func login(_ request: Request) throws -> Response {
        let username: String
        let password: String
        do {
            let fields = try Self.jsonObject(request)
            guard let name = fields["username"]?.stringValue, let secret = fields["password"]?.stringValue,
                name.utf8.count <= 256, secret.utf8.count <= 1024
            else {
                throw HTTPProblem.badRequest("username and password are required strings.")
            }
            (username, password) = (name, secret)
        } catch let problem as any HTTPResponseError {
            // A login attempt that could not be read is still an attempt: recorded without a
            // name, since none could be read (and nothing of the body is kept).
            try trail.record(
                trail.entry(
                    request, caller: nil, event: "auth.login", action: "auth.login", status: problem.status,
                    details: ["reason": "malformed_request"]))
            throw problem
        }
        let result: LoginResult
        do {
            result = try pool.with { try $0.authenticator.login(username: username, password: password) }
        } catch let error as AuthError where error.loginFailure != nil {
            let failure = error.loginFailure!
            // A reserved name ("phigate", "anonymous") is no account's: recorded under it, a
            // stranger's attempts would read as the gateway's own entries.
            let actor = failure.username.flatMap { Username.Reserved.all.contains($0) ? nil : $0 }
                ?? Username.Reserved.unreadableName
            var entry = trail.entry(
                request, caller: nil, event: "auth.login", action: "auth.login",
                status: failure.reason == .locked ? 429 : 401, refused: true,
                details: ["reason": failure.reason.description])
            entry.actor = actor
            try trail.record(entry)
            if failure.lockoutStarted {
                logger.warning("auth.lockout", ["user": .string(actor)])
                var lockout = trail.entry(
                    request, caller: nil, event: "auth.lockout", action: "auth.login", status: 429, refused: true,
                    details: ["locked_until": WallClock.iso8601(unixSeconds: failure.lockedUntil ?? 0)])
                lockout.actor = actor
                try trail.record(lockout)
                var payload = JSONObjectWriter()
                payload.add("user", actor)
                payload.add("factor", "password")
                payload.add("locked_until", failure.lockedUntil ?? 0)
                payload.add("client", request.remoteAddress)
                payload.add("request_id", request.requestID)
                try pool.with { session in
                    try session.database.transaction {
                        try alerts.enqueue(WebhookEventType.authLockout, payload: payload, in: session.database)
                    }
                }
                alerts.deliverSoon()
            }
            if failure.reason == .locked {
                throw HTTPProblem(
                    status: 429, detail: "Too many failed logins for this account; try again later.",
                    headers: [("Retry-After", String(policy.lockoutSeconds))])
            }
            throw HTTPProblem(status: 401, detail: "The username or password is wrong.")
        }
        let account = result.account
        if try !presentsBoundCertificate(account, request) {
            // The session is ended before its token leaves the process. The answer is the one a
            // wrong password gets, so that it does not confirm the password to whoever lacks
            // the certificate; the audit entry tells the operator why.
            try pool.with { try $0.authenticator.logout(token: result.token) }
            var refused = trail.entry(
                request, caller: nil, event: "auth.login", action: "auth.login", status: 401, refused: true,
                details: ["reason": "certificate_required"])
            refused.actor = account.username
            try trail.record(refused)
            throw HTTPProblem(status: 401, detail: "The username or password is wrong.")
        }
        var entry = trail.entry(
            request, caller: nil, event: "auth.login", action: "auth.login", status: 200)
        entry.actor = account.username
        entry.roles = [account.role.rawValue]
        try trail.record(entry)
        var body = "{\"access_token\":" + JSONText.quoted(result.token) + ",\"token_type\":\"Bearer\""
        body += ",\"expires_in\":" + String(policy.idleTimeoutSeconds)
        body += ",\"user\":" + Self.userJSON(account) + "}"
        var response = Response.json(200, body)
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    /// False when the account is bound to a client certificate this request did not present.
    private func presentsBoundCertificate(_ account: Account, _ request: Request) throws -> Bool {
        let binding = try pool.with { try CertificateBindings.binding(for: account.username, in: $0.database) }
        return binding?.accepts(request.clientCertificate) ?? true
    }

    func logout(_ request: Request) throws -> Response {
        try trail.audited(request, event: "auth.logout", action: "auth.logout") { _, _ in
            guard let token = AuthenticationMiddleware.bearerToken(request.headers["Authorization"]) else {
                throw AuthenticationMiddleware.unauthorized("This endpoint needs a bearer token.")
            }
            sessions.evict(token)
            try pool.with { try $0.authenticator.logout(token: token) }
            return Response(status: 204)
        }
    }

    /// The caller's own account. It shows no PHI, but it is an authenticated request like any
    /// other, so it is an entry like any other.
    func me(_ request: Request) throws -> Response {
        try trail.audited(request, event: "auth.me", action: "auth.me") { caller, _ in
            Response.json(200, "{\"user\":" + Self.userJSON(caller.account) + "}")
        }
    }

    static func userJSON(_ account: Account) -> String {
        var out = "{\"username\":" + JSONText.quoted(account.username)
        out += ",\"role\":" + JSONText.quoted(account.role.rawValue)
        if let practitioner = account.practitionerID {
            out += ",\"practitioner\":" + JSONText.quoted(practitioner)
        }
        out += ",\"totp_enrolled\":" + (account.totpEnrolled ? "true" : "false") + "}"
        return out
    }
}
