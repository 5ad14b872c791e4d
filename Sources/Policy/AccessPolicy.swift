/// phigate's access policy: a pure function from an ``AccessRequest`` to a ``Decision``.
///
/// Deny by default. No role reads everything: each allow below names the one rule that allowed
/// it, each denial the rule that refused it. The policy never performs I/O, never sees whether
/// a patient or resource exists, and never logs; the caller records the decision in the audit
/// log and answers with its `status`.
///
/// **Step 1: who is asking.** The effective user is settled before any role rule runs.
///
/// | caller | X-On-Behalf-Of | action | result | rule |
/// |---|---|---|---|---|
/// | not ehr-system | sent | any | 400 | deny.on_behalf_of_not_allowed |
/// | not ehr-system | absent | any | step 2 for the caller | |
/// | ehr-system | no enabled account | any | 403 | deny.on_behalf_of_unresolved |
/// | ehr-system | an ehr-system | any | 403 | deny.on_behalf_of_system |
/// | ehr-system | a user | not proxiable | 403 | deny.on_behalf_of_scope |
/// | ehr-system | a user | proxiable | step 2 for that user, proxiedBy set | |
/// | ehr-system | absent | importBundle | allow, HOPERAT | ehr_system.import |
/// | ehr-system | absent | readCapabilities | allow, HOPERAT | any.capabilities |
/// | ehr-system | absent | other proxiable | 400 | deny.on_behalf_of_required |
/// | ehr-system | absent | anything else | 403 | deny.default |
///
/// Proxiable (``Action/isProxiable``): FHIR reads, readCapabilities, activateBreakGlass,
/// listOwnGrants, endGrant. Audit, review, administration and import are never proxied.
///
/// **Step 2: what the effective user's role allows.** "FHIR" is readResource,
/// searchResources and patientEverything (type Patient); "patient" means the request has a
/// patient compartment; a "valid" grant is held by the effective user, covers this patient, is
/// not revoked and `now < expiresAt`; a star marks a denial with `breakGlassAvailable`.
///
/// | role | action | condition | rule | purpose |
/// |---|---|---|---|---|
/// | any | readCapabilities | | any.capabilities | HOPERAT |
/// | clinician, registrar | FHIR | type unsupported | deny.unknown_resource_type | |
/// | clinician, registrar | FHIR | directory type | directory.read | HOPERAT |
/// | clinician | FHIR patient data | patient, care relationship | clinician.care_relationship | TREAT |
/// | clinician | FHIR patient data | patient, none, valid grant | clinician.break_glass | BTG |
/// | clinician | FHIR patient data | patient, none, other holder | deny.grant_not_holder * | |
/// | clinician | FHIR patient data | patient, none, other patient | deny.grant_wrong_patient * | |
/// | clinician | FHIR patient data | patient, none, grant revoked | deny.grant_revoked * | |
/// | clinician | FHIR patient data | patient, none, grant expired | deny.grant_expired * | |
/// | clinician | FHIR patient data | patient, none, no grant | deny.no_relationship * | |
/// | clinician | search Patient | no patient | clinician.patient_search_filtered | TREAT |
/// | clinician | search other patient data | no patient | deny.unscoped_search | |
/// | clinician | read, $everything | no patient | deny.no_patient_compartment | |
/// | clinician | activateBreakGlass | | clinician.activate_break_glass | BTG |
/// | clinician | listOwnGrants | | clinician.list_own_grants | HOPERAT |
/// | clinician | endGrant(holder) | holder is the user | clinician.end_own_grant | HOPERAT |
/// | clinician | endGrant(holder) | another holder | deny.not_grant_holder | |
/// | registrar | read or search Patient | any patient or none | registrar.demographics | HOPERAT |
/// | registrar | other patient data, $everything | | deny.registrar_demographics_only | |
/// | compliance | FHIR | | deny.no_phi_role | |
/// | compliance | queryAudit, readCheckpoints | | compliance.audit_query | HCOMPL |
/// | compliance | verifyAudit | | compliance.audit_verify | HCOMPL |
/// | compliance | exportAudit | | compliance.audit_export | HCOMPL |
/// | compliance | readDisclosures | | compliance.disclosures | HCOMPL |
/// | compliance | listReviews | | compliance.review_list | HCOMPL |
/// | compliance | reviewGrant(holder) | another holder | compliance.review_grant | HCOMPL |
/// | compliance | reviewGrant(holder) | holder is the user | deny.self_review | |
/// | security-admin | FHIR | | deny.no_phi_role | |
/// | security-admin | manageUsers | | security_admin.manage_users | HSYSADMIN |
/// | security-admin | manageWebhooks | | security_admin.manage_webhooks | HSYSADMIN |
/// | security-admin | viewDeadLetters | | security_admin.dead_letters | HSYSADMIN |
/// | security-admin | listOwnGrants | | security_admin.list_grants | HSYSADMIN |
/// | security-admin | endGrant(holder) | any holder | security_admin.end_grant | HSYSADMIN |
/// | not clinician | activateBreakGlass | | deny.break_glass_not_clinician | |
/// | any | anything else | | deny.default | |
///
/// ("none" is no care relationship.) A care relationship wins over a grant: when both apply,
/// the read is treatment and carries no grant id. A grant never widens a role: registrars and
/// the no-PHI roles ignore it. Allows carry status 200, refusals 403, and the two
/// malformed-header rules (on_behalf_of_not_allowed, on_behalf_of_required) 400.
public enum AccessPolicy {
    /// Decides one request. Pure and total: every input yields a decision.
    public static func decide(_ request: AccessRequest) -> Decision {
        let caller = request.caller
        guard caller.role == .ehrSystem else {
            if request.namesOnBehalfOf {
                return .deny(.denyOnBehalfOfNotAllowed, user: caller.username)
            }
            return decide(as: caller, request)
        }
        guard request.namesOnBehalfOf else { return decideForSystem(caller, request) }

        guard let user = request.onBehalfOf else {
            return .deny(.denyOnBehalfOfUnresolved, user: caller.username)
        }
        guard user.role != .ehrSystem else {
            return .deny(.denyOnBehalfOfSystem, user: caller.username)
        }
        var decision: Decision
        if request.action.isProxiable {
            decision = decide(as: user, request)
        } else {
            decision = .deny(.denyOnBehalfOfScope, user: user.username)
        }
        decision.proxiedBy = caller.username
        return decision
    }

    /// An ehr-system acting in its own name: imports and the capability statement only.
    /// Anything a user would do needs `X-On-Behalf-Of`, which the 400 tells the integrator.
    static func decideForSystem(_ system: Principal, _ request: AccessRequest) -> Decision {
        switch request.action {
        case .importBundle:
            return .allow(.ehrSystemImport, .operations, user: system.username)
        case .readCapabilities:
            return .allow(.anyCapabilities, .operations, user: system.username)
        case let action where action.isProxiable:
            return .deny(.denyOnBehalfOfRequired, user: system.username)
        default:
            return .deny(.denyDefault, user: system.username)
        }
    }

    /// The rules of `user`'s role, applied to `request`'s action and patient.
    static func decide(as user: Principal, _ request: AccessRequest) -> Decision {
        if request.action == .readCapabilities {
            return .allow(.anyCapabilities, .operations, user: user.username)
        }
        switch user.role {
        case .clinician: return clinician(user, request)
        case .registrar: return registrar(user, request)
        case .compliance: return compliance(user, request)
        case .securityAdmin: return securityAdmin(user, request)
        case .ehrSystem: return decideForSystem(user, request)
        }
    }
}
