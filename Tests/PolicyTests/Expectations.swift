import Policy

/// The decision one matrix row must produce, written down by hand: everything in ``Decision``
/// except the effective user and proxy, which are fixed per subject (``Expected/user(_:)``).
struct Outcome: Sendable, Equatable {
    var allowed: Bool
    var rule: String
    var purpose: Purpose?
    var status: Int
    var breakGlassAvailable = false
    var grantID: String?

    static func allow(_ rule: String, _ purpose: Purpose) -> Outcome {
        Outcome(allowed: true, rule: rule, purpose: purpose, status: 200)
    }

    static func allowGrant(_ rule: String, _ purpose: Purpose, grant: String) -> Outcome {
        Outcome(allowed: true, rule: rule, purpose: purpose, status: 200, grantID: grant)
    }

    static func deny(_ rule: String) -> Outcome {
        Outcome(allowed: false, rule: rule, purpose: nil, status: 403)
    }

    /// A 403 whose body tells the clinician that break-glass is available.
    static func denyBreakGlass(_ rule: String) -> Outcome {
        Outcome(allowed: false, rule: rule, purpose: nil, status: 403, breakGlassAvailable: true)
    }

    /// A 400: the request's headers are malformed for this caller.
    static func refuse(_ rule: String) -> Outcome {
        Outcome(allowed: false, rule: rule, purpose: nil, status: 400)
    }
}

/// The expectation for one (subject, kind): the same outcome in all twelve relationship × grant
/// cells, or an outcome written per cell.
enum Expect: Sendable {
    case always(Outcome)
    case byCell(KeyValuePairs<Cell, Outcome>)

    static func allow(_ rule: String, _ purpose: Purpose) -> Expect {
        .always(.allow(rule, purpose))
    }
    static func deny(_ rule: String) -> Expect { .always(.deny(rule)) }
    static func refuse(_ rule: String) -> Expect { .always(.refuse(rule)) }

    func outcome(for cell: Cell) -> Outcome? {
        switch self {
        case .always(let outcome): return outcome
        case .byCell(let cells): return cells.first { $0.key == cell }?.value
        }
    }
}

/// The expected decisions, by subject and kind. The per-subject tables live in
/// `Expectations+Direct.swift` and `Expectations+Proxied.swift`.
enum Expected {
    static let table: KeyValuePairs<Subject, KeyValuePairs<Kind, Expect>> = [
        .clinician: clinician,
        .registrar: registrar,
        .compliance: compliance,
        .securityAdmin: securityAdmin,
        .ehrSystem: ehrSystem,
        .clinicianSendingOnBehalfOf: clinicianSendingOnBehalfOf,
        .ehrForClinician: ehrForClinician,
        .ehrForRegistrar: ehrForRegistrar,
        .ehrForCompliance: ehrForCompliance,
        .ehrForSecurityAdmin: ehrForSecurityAdmin,
        .ehrForUnresolved: ehrForUnresolved,
        .ehrForSystem: ehrForSystem,
    ]

    /// Whose rights apply, and which system proxied, for every row of a subject.
    static func user(_ subject: Subject) -> (effective: String, proxiedBy: String?) {
        switch subject {
        case .clinician, .clinicianSendingOnBehalfOf: ("dr.ada", nil)
        case .registrar: ("reg.rui", nil)
        case .compliance: ("comp.cai", nil)
        case .securityAdmin: ("sec.sam", nil)
        case .ehrSystem, .ehrForUnresolved, .ehrForSystem: ("ehr.epic", nil)
        case .ehrForClinician: ("dr.ada", "ehr.epic")
        case .ehrForRegistrar: ("reg.rui", "ehr.epic")
        case .ehrForCompliance: ("comp.cai", "ehr.epic")
        case .ehrForSecurityAdmin: ("sec.sam", "ehr.epic")
        }
    }

    /// A clinician (or an ehr-system for one) asking for patient p1's data: the relationship
    /// decides first, then the named grant, cell by cell.
    static let clinicianPatientData: Expect = .byCell([
        Cell(true, .valid): .allow("clinician.care_relationship", .treatment),
        Cell(true, .otherPatient): .allow("clinician.care_relationship", .treatment),
        Cell(true, .otherHolder): .allow("clinician.care_relationship", .treatment),
        Cell(true, .expired): .allow("clinician.care_relationship", .treatment),
        Cell(true, .revoked): .allow("clinician.care_relationship", .treatment),
        Cell(true, .none): .allow("clinician.care_relationship", .treatment),
        Cell(false, .valid): .allowGrant("clinician.break_glass", .breakGlass, grant: "g-valid"),
        Cell(false, .otherPatient): .denyBreakGlass("deny.grant_wrong_patient"),
        Cell(false, .otherHolder): .denyBreakGlass("deny.grant_not_holder"),
        Cell(false, .expired): .denyBreakGlass("deny.grant_expired"),
        Cell(false, .revoked): .denyBreakGlass("deny.grant_revoked"),
        Cell(false, .none): .denyBreakGlass("deny.no_relationship"),
    ])
}
