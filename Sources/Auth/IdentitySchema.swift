import Store

/// The identity tables, which live in the same database file as the record store under their
/// own migration component, "identities".
///
/// Secrets are stored only in forms that do not give them back: passwords as scrypt strings,
/// session tokens as SHA-256 digests, TOTP secrets sealed with AES-256-GCM under a key the
/// database does not hold. Scripts are append-only: never edit one that has shipped.
enum IdentitySchema {
    static let migrator = Migrator(component: "identities", scripts: [version1, version2])

    private static let version1 = """
        CREATE TABLE accounts(
            username TEXT PRIMARY KEY NOT NULL,
            role TEXT NOT NULL,
            practitioner_id TEXT,
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
            created_at INTEGER NOT NULL,
            CHECK (practitioner_id IS NULL OR role = 'clinician')
        ) WITHOUT ROWID;

        CREATE TABLE account_totp(
            username TEXT PRIMARY KEY NOT NULL
                REFERENCES accounts(username) ON DELETE CASCADE,
            sealed_secret BLOB NOT NULL,
            confirmed INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
            last_step INTEGER CHECK (last_step IS NULL OR last_step >= 0)
        ) WITHOUT ROWID;

        CREATE TABLE care_assignments(
            username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
            patient_id TEXT NOT NULL,
            assigned_at INTEGER NOT NULL,
            PRIMARY KEY (username, patient_id)
        ) WITHOUT ROWID;
        CREATE INDEX care_assignments_by_patient ON care_assignments(patient_id);

        CREATE TABLE sessions(
            token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
            username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX sessions_by_username ON sessions(username);
        CREATE INDEX sessions_by_expiry ON sessions(expires_at);

        CREATE TABLE login_failures(
            username TEXT NOT NULL,
            failed_at INTEGER NOT NULL
        );
        CREATE INDEX login_failures_by_name ON login_failures(username, failed_at);
        CREATE INDEX login_failures_by_time ON login_failures(failed_at);

        CREATE TABLE login_lockouts(
            username TEXT PRIMARY KEY NOT NULL,
            locked_until INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// Records who issued a TOTP secret: 1 when an administrator provisioned it (`phigate user
    /// totp`), 0 when the account holder enrolled it themselves. Self-enrolment may replace
    /// only a secret of its own that is still unconfirmed.
    ///
    /// Rows from before this version do not say who issued them. A pending (unconfirmed) one
    /// is counted as an administrator's, so that a session alone cannot replace it: the holder
    /// confirms it or asks for a reset. A confirmed one is never replaced by self-enrolment
    /// anyway, so the column only describes it.
    private static let version2 = """
        ALTER TABLE account_totp ADD COLUMN issued_by_admin INTEGER NOT NULL DEFAULT 0
            CHECK (issued_by_admin IN (0, 1));
        UPDATE account_totp SET issued_by_admin = 1 WHERE confirmed = 0;
        """
}
