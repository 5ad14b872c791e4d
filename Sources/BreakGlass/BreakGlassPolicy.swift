/// The limits of break-glass access, from the `break_glass` section of the configuration.
///
/// The defaults suit a hospital: an hour of access (long enough to stabilise a patient and
/// short enough that a forgotten grant closes itself), four hours at most, three patients
/// at once per clinician (a mass-casualty shift may need more than one; a clinician with many
/// open grants is more likely browsing than treating), and review within three days.
public struct BreakGlassPolicy: Sendable, Equatable {
    /// The most characters a justification may have, whatever the configuration says.
    public static let justificationMaximum = 2000
    /// The most characters review notes may have.
    public static let notesMaximum = 4000

    /// A grant lasts this long when the request names no duration.
    public var defaultMinutes: Int = 60
    /// The longest duration a request may ask for.
    public var maximumMinutes: Int = 240
    /// How many unexpired, unended grants one user may hold at once.
    public var maxActivePerUser: Int = 3
    /// A grant not reviewed this long after activation is overdue.
    public var reviewDeadlineHours: Int = 72
    /// The fewest characters a justification must have after trimming.
    public var justificationMinimum: Int = 20

    public init(
        defaultMinutes: Int = 60, maximumMinutes: Int = 240, maxActivePerUser: Int = 3,
        reviewDeadlineHours: Int = 72, justificationMinimum: Int = 20
    ) {
        self.defaultMinutes = defaultMinutes
        self.maximumMinutes = maximumMinutes
        self.maxActivePerUser = maxActivePerUser
        self.reviewDeadlineHours = reviewDeadlineHours
        self.justificationMinimum = justificationMinimum
    }

    /// Throws `.invalidPolicy` naming the first field that is out of range.
    ///
    /// Bounds: a grant lasts 1 minute to 24 hours (a longer one is standing access, which a
    /// care assignment should give instead); 1 to 100 active grants; a review deadline of 1
    /// hour to 90 days; a justification minimum of 1 to the fixed maximum.
    public func validate() throws(BreakGlassError) {
        let day = 24 * 60
        let checks: [(Bool, String)] = [
            ((1...day).contains(maximumMinutes), "maximumMinutes must be 1 to 1440"),
            (
                (1...maximumMinutes).contains(defaultMinutes),
                "defaultMinutes must be 1 to maximumMinutes"
            ),
            ((1...100).contains(maxActivePerUser), "maxActivePerUser must be 1 to 100"),
            ((1...2160).contains(reviewDeadlineHours), "reviewDeadlineHours must be 1 to 2160"),
            (
                (1...Self.justificationMaximum).contains(justificationMinimum),
                "justificationMinimum must be 1 to \(Self.justificationMaximum)"
            ),
        ]
        for (valid, message) in checks where !valid {
            throw BreakGlassError(.invalidPolicy, message)
        }
    }

    /// The review deadline in seconds.
    var reviewDeadlineSeconds: Int64 {
        Int64(reviewDeadlineHours) * 3600
    }
}
