import Auth
import Policy
import Server

/// Who is calling, as the authentication middleware established it.
struct Caller: Sendable {
    /// The account whose bearer token came with the request.
    var account: Account
    /// The end user an ehr-system named in X-On-Behalf-Of, when that name is an enabled account.
    var onBehalfOf: Account?
    /// X-On-Behalf-Of was sent at all, resolvable or not: the policy refuses it from non-systems.
    var onBehalfOfHeaderPresent: Bool
    /// The name X-On-Behalf-Of gave, for the audit entry when it named no usable account: its
    /// canonical form, or a marker when it has none (the raw text is the caller's to choose).
    var requestedOnBehalfOf: String? = nil

    /// The account whose rights apply: the named end user for an ehr-system, else the caller.
    /// Only meaningful after the policy allowed the request.
    var effectiveAccount: Account {
        if account.role == .ehrSystem, let user = onBehalfOf { return user }
        return account
    }

    /// The request for the policy engine, with everything but the action-specific facts.
    func accessRequest(
        _ action: Action, patientID: String? = nil, relationship: Bool = false, grant: GrantEvidence? = nil,
        now: Int64
    ) -> AccessRequest {
        AccessRequest(
            caller: account.principal, onBehalfOf: onBehalfOf?.principal,
            onBehalfOfHeaderPresent: onBehalfOfHeaderPresent, action: action, patientID: patientID,
            hasCareRelationship: relationship, grant: grant, now: now)
    }
}

/// Resolves `Authorization: Bearer <token>` to a `Caller` in the request context, or refuses
/// with 401. Runs on a worker (it reads the session store).
struct AuthenticationMiddleware: Middleware {
    let pool: RecordsPool
    let trail: AuditTrail
    let sessions: SessionCache

    /// A request refused here, with the account its token named when the token was valid.
    private struct Refusal: Error {
        var problem: HTTPProblem
        var account: Account?
        var rule: String?
    }

    /// Refused requests are audited too: an unauthenticated attempt, or a user sending headers
    /// only systems may send, is an access decision.
    func respond(to request: Request, next: (Request) throws -> Response) throws -> Response {
        let caller: Caller
        do {
            caller = try authenticate(request)
        } catch let refusal as Refusal {
            let requested = request.headers.values(for: "X-On-Behalf-Of").first.map(Self.requestedName)
            let refused = refusal.account.map {
                Caller(account: $0, onBehalfOf: nil, onBehalfOfHeaderPresent: true, requestedOnBehalfOf: requested)
            }
            // A policy rule refused it, or the request was malformed (a header given twice).
            let malformed = refusal.rule == nil && refusal.problem.status == 400
            var entry = trail.entry(
                request, caller: refused, event: "auth.rejected",
                action: refusal.account == nil ? "auth.token" : "auth.on_behalf_of",
                status: refusal.problem.status, refused: !malformed, details: ["route": request.route])
            entry.rule = refusal.rule
            try trail.record(entry)
            throw refusal.problem
        }
        var request = request
        request.context[Caller.self] = caller
        var response = try next(request)
        // Authenticated answers are one person's view of PHI or the audit log: never cached.
        response.headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return response
    }

    private func authenticate(_ request: Request) throws -> Caller {
        guard let token = Self.bearerToken(request.headers["Authorization"]) else {
            throw Refusal(problem: Self.unauthorized("This endpoint needs a bearer token: POST /auth/login first."))
        }
        let once = HTTPProblem.badRequest("Authorization and X-On-Behalf-Of may each appear once.")
        // Two credentials name no one caller; a repeated X-On-Behalf-Of is refused below, once
        // the token says whose request it is.
        guard request.headers.count(of: "Authorization") == 1 else {
            throw Refusal(problem: once)
        }
        let oboNames = request.headers.values(for: "X-On-Behalf-Of")
        let oboName = oboNames.first
        let authenticated: (session: Session, account: Account, binding: CertificateBindings.Binding?)
        if let cached = sessions.lookup(token) {
            authenticated = cached
        } else {
            authenticated = try pool.with { session in
                let found: (session: Session, account: Account)
                do {
                    found = try session.authenticator.authenticate(token: token)
                } catch let error as AuthError where error.code == .storage {
                    throw error
                } catch {
                    throw Refusal(
                        problem: Self.unauthorized("The bearer token is invalid or has expired; log in again."))
                }
                let binding = try CertificateBindings.binding(for: found.account.username, in: session.database)
                return (found.session, found.account, binding)
            }
            sessions.store(
                token, session: authenticated.session, account: authenticated.account, binding: authenticated.binding)
        }
        if let binding = authenticated.binding, !binding.accepts(request.clientCertificate) {
            throw Refusal(
                problem: Self.unauthorized("This account must present its bound client certificate over mutual TLS."))
        }
        guard oboNames.count <= 1 else {
            throw Refusal(problem: once, account: authenticated.account)
        }
        if oboName != nil && authenticated.account.role != .ehrSystem {
            throw Refusal(
                problem: .badRequest("X-On-Behalf-Of is accepted from ehr-system accounts only."),
                account: authenticated.account, rule: PolicyRule.denyOnBehalfOfNotAllowed.rawValue)
        }
        var onBehalfOf: Account?
        if let oboName, let canonical = Username.canonical(oboName) {
            onBehalfOf = try pool.with { session in
                guard let named = try session.identities.account(canonical), !named.disabled else { return nil }
                return named
            }
        }
        return Caller(
            account: authenticated.account, onBehalfOf: onBehalfOf, onBehalfOfHeaderPresent: oboName != nil,
            requestedOnBehalfOf: onBehalfOf == nil ? oboName.map(Self.requestedName) : nil)
    }

    /// How an audit entry names what X-On-Behalf-Of asked for: the canonical username, or a
    /// marker for text that is no username (which is not repeated, being the caller's choice).
    static func requestedName(_ header: String) -> String {
        Username.canonical(header) ?? "(not a valid username)"
    }

    /// The token of a well-formed `Bearer` credential (scheme case-insensitive, RFC 6750
    /// token68 characters, at most 512 of them), or nil. Runs on every authenticated request,
    /// so it reads the UTF-8 bytes once and allocates only the token it returns.
    static func bearerToken(_ header: String?) -> String? {
        guard var header else { return nil }
        return header.withUTF8 { bytes -> String? in
            guard bytes.count > 7, bytes.count <= 7 + 512 else { return nil }
            for (byte, expected) in zip(bytes[..<7], "bearer ".utf8) {
                let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                guard folded == expected else { return nil }
            }
            let token = UnsafeBufferPointer(rebasing: bytes[7...])
            let valid = token.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E || b == 0x2B || b == 0x2F || b == 0x3D
            }
            return valid ? String(decoding: token, as: UTF8.self) : nil
        }
    }

    static func unauthorized(_ detail: String) -> HTTPProblem {
        HTTPProblem(
            status: 401, detail: detail,
            headers: [("WWW-Authenticate", "Bearer realm=\"phigate\"")])
    }
}

extension Request {
    /// The authenticated caller; only on routes behind `AuthenticationMiddleware`.
    var caller: Caller {
        get throws {
            guard let caller = context[Caller.self] else {
                throw HTTPProblem(status: 401, detail: "This endpoint needs a bearer token.")
            }
            return caller
        }
    }
}
