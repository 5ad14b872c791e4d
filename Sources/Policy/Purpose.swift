/// The purpose of use that an allowed request is recorded under in the audit log.
///
/// Raw values are codes from the HL7 v3 PurposeOfUse value set
/// (`http://terminology.hl7.org/CodeSystem/v3-ActReason`), so that an audit export in FHIR
/// AuditEvent form can carry them unchanged. The mapping phigate uses:
///
/// | purpose | code | used for |
/// |---|---|---|
/// | `treatment` | TREAT | a clinician reading records of a patient in their care |
/// | `breakGlass` | BTG | a read under a break-glass grant, and activating a grant |
/// | `operations` | HOPERAT | demographics, directory data, imports, capabilities, own grants |
/// | `audit` | HCOMPL | audit queries, verification, exports, disclosures, reviews |
/// | `systemAdministration` | HSYSADMIN | users, webhooks, dead letters, ending others' grants |
public enum Purpose: String, Sendable, CaseIterable {
    /// Treatment (TREAT).
    case treatment = "TREAT"
    /// Break the glass (BTG): emergency access outside the usual rules.
    case breakGlass = "BTG"
    /// Healthcare operations (HOPERAT).
    case operations = "HOPERAT"
    /// Compliance (HCOMPL): work of the compliance team on the audit trail.
    case audit = "HCOMPL"
    /// System administration (HSYSADMIN).
    case systemAdministration = "HSYSADMIN"
}
