import Store

/// The break-glass tables, which live in the records database under their own migration
/// component, "break_glass".
///
/// Grants and review decisions are evidence: triggers refuse to delete them or to rewrite
/// what was decided, so only the columns that record an ending or a review's progress ever
/// change. The holder and reviewer columns hold canonical account names; they do not
/// reference the identity tables, so that the two components migrate independently (accounts
/// are disabled, never deleted, so the names stay resolvable). Scripts are append-only:
/// never edit one that has shipped.
enum BreakGlassSchema {
    static let migrator = Migrator(component: "break_glass", scripts: [version1])

    /// Brings the tables up to date on a writable connection, or checks that they are on a
    /// read-only one.
    static func prepare(_ database: Database) throws(BreakGlassError) {
        try BreakGlassError.translating("open the break-glass tables") {
            guard database.isReadOnly else {
                try migrator.migrate(database)
                return
            }
            let version = try migrator.currentVersion(of: database)
            guard version == migrator.latestVersion else {
                throw BreakGlassError.storage(
                    "a read-only database has break_glass schema \(version), "
                        + "expected \(migrator.latestVersion)")
            }
        }
    }

    private static let version1 = """
        CREATE TABLE break_glass_grants(
            id TEXT PRIMARY KEY NOT NULL,
            holder TEXT NOT NULL,
            patient_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            justification TEXT NOT NULL,
            second_factor_step INTEGER NOT NULL CHECK (second_factor_step >= 0),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL CHECK (expires_at > created_at),
            ended_at INTEGER,
            ended_by TEXT,
            CHECK ((ended_at IS NULL) = (ended_by IS NULL))
        ) WITHOUT ROWID;
        CREATE INDEX break_glass_grants_by_holder ON break_glass_grants(holder, expires_at);
        CREATE INDEX break_glass_grants_by_time ON break_glass_grants(created_at);

        CREATE TRIGGER break_glass_grants_kept BEFORE DELETE ON break_glass_grants
        BEGIN
            SELECT RAISE(ABORT, 'break-glass grants are never deleted');
        END;
        CREATE TRIGGER break_glass_grants_fixed BEFORE UPDATE OF
            id, holder, patient_id, reason, justification, second_factor_step, created_at,
            expires_at ON break_glass_grants
        BEGIN
            SELECT RAISE(ABORT, 'a break-glass grant is not rewritten');
        END;
        CREATE TRIGGER break_glass_grants_end_once BEFORE UPDATE OF ended_at, ended_by
            ON break_glass_grants WHEN OLD.ended_at IS NOT NULL
        BEGIN
            SELECT RAISE(ABORT, 'a break-glass grant ends once');
        END;

        CREATE TABLE break_glass_reviews(
            grant_id TEXT PRIMARY KEY NOT NULL REFERENCES break_glass_grants(id),
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'needs-follow-up', 'completed')),
            due_at INTEGER NOT NULL,
            overdue_notified_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX break_glass_reviews_by_status ON break_glass_reviews(status, due_at);

        CREATE TRIGGER break_glass_reviews_kept BEFORE DELETE ON break_glass_reviews
        BEGIN
            SELECT RAISE(ABORT, 'break-glass reviews are never deleted');
        END;
        CREATE TRIGGER break_glass_reviews_closed BEFORE UPDATE OF status
            ON break_glass_reviews WHEN OLD.status = 'completed'
        BEGIN
            SELECT RAISE(ABORT, 'a completed review is not reopened');
        END;

        CREATE TABLE break_glass_review_decisions(
            grant_id TEXT NOT NULL REFERENCES break_glass_reviews(grant_id),
            sequence INTEGER NOT NULL CHECK (sequence >= 1),
            reviewer TEXT NOT NULL,
            disposition TEXT NOT NULL
                CHECK (disposition IN ('justified', 'unjustified', 'needs-follow-up')),
            notes TEXT NOT NULL,
            decided_at INTEGER NOT NULL,
            PRIMARY KEY (grant_id, sequence)
        ) WITHOUT ROWID;

        CREATE TRIGGER break_glass_review_decisions_kept
            BEFORE DELETE ON break_glass_review_decisions
        BEGIN
            SELECT RAISE(ABORT, 'review decisions are never deleted');
        END;
        CREATE TRIGGER break_glass_review_decisions_fixed
            BEFORE UPDATE ON break_glass_review_decisions
        BEGIN
            SELECT RAISE(ABORT, 'review decisions are not rewritten');
        END;

        CREATE TABLE break_glass_totp_failures(
            username TEXT NOT NULL,
            failed_at INTEGER NOT NULL
        );
        CREATE INDEX break_glass_totp_failures_by_name
            ON break_glass_totp_failures(username, failed_at);
        CREATE INDEX break_glass_totp_failures_by_time ON break_glass_totp_failures(failed_at);

        CREATE TABLE break_glass_totp_lockouts(
            username TEXT PRIMARY KEY NOT NULL,
            level INTEGER NOT NULL CHECK (level >= 1),
            locked_until INTEGER NOT NULL
        ) WITHOUT ROWID;
        """
}
