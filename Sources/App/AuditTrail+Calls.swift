import Audit
import Policy
import Server

/// A refusal by a decision — the access policy, or a check of the caller's credentials such as
/// a second-factor code — as opposed to a request that failed. It is answered like any problem;
/// the difference is the audit outcome, which `AuditTrail.Outcome` makes `denied`.
struct Denial: HTTPResponseError, Sendable {
    var status: Int
    var detail: String
    var headers: [(String, String)] = []

    /// `problem` as a refusal, with its status, text and headers unchanged.
    init(_ problem: HTTPProblem) {
        self.init(status: problem.status, detail: problem.detail, headers: problem.headers)
    }

    init(status: Int, detail: String, headers: [(String, String)] = []) {
        self.status = status
        self.detail = detail
        self.headers = headers
    }
}

/// What a handler learned for its request's audit entry while it ran, so that the entry says
/// it whichever way the request ends.
struct AuditNote {
    /// The policy's decision, once asked; a refusal makes the entry `denied`.
    var decision: Decision?
    var patient: String?
    /// The grant or review the request named, also when it does not exist, so that a search by
    /// grant finds every attempt on it.
    var grant: String?
    var details: [String: String] = [:]
    /// Set by a handler that recorded its entry itself, inside the transaction that must not
    /// commit without it; the wrapper then records nothing more.
    var recorded = false
}

extension AuditTrail {
    /// Runs `body` for an authenticated request and records exactly one entry for it, with the
    /// caller as actor, the status the caller got and the outcome `Outcome`'s rule gives: an
    /// answer, a problem (a `Denial`, or any problem after the noted decision refused), or 500
    /// for anything else. The entry is durable before the response or the error leaves.
    func audited(
        _ request: Request, event: String, action: String, _ body: (Caller, inout AuditNote) throws -> Response
    ) throws -> Response {
        let caller = try request.caller
        var note = AuditNote()
        return try recordingOutcome(
            { status, refused in
                guard !note.recorded else { return nil }
                var entry = entry(
                    request, caller: caller, event: event, action: action, status: status,
                    refused: refused || note.decision?.allowed == false, decision: note.decision,
                    patient: note.patient, details: note.details)
                entry.grant = note.grant ?? entry.grant
                return entry
            }, of: { try body(caller, &note) })
    }

    /// Asks the policy whether `caller` may do `action`, noting the decision for `audited`'s
    /// entry. A refusal is thrown as a `Denial` whose detail is `refusal` (or, for a malformed
    /// X-On-Behalf-Of, what is wrong with it); `audited` records it.
    func decide(
        _ caller: Caller, _ action: Action, note: inout AuditNote, refusal: String
    ) throws(Denial) -> Decision {
        try decide(caller, action, note: &note) { _ in refusal }
    }

    /// The same, with a refusal's detail chosen by the decision (its rule) that refused.
    func decide(
        _ caller: Caller, _ action: Action, note: inout AuditNote, refusal: (Decision) -> String
    ) throws(Denial) -> Decision {
        let decision = AccessPolicy.decide(caller.accessRequest(action, now: now / 1000))
        note.decision = decision
        guard decision.allowed else {
            throw Denial(status: decision.status, detail: Self.refusal(decision, otherwise: refusal(decision)))
        }
        return decision
    }
}
