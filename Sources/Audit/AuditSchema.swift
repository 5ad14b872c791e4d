public import Store

/// The audit database's tables, triggers and migrations.
///
/// `audit_log` and `audit_checkpoints` are the evidence: append-only, refused UPDATE and
/// DELETE by triggers (which bind every connection that has not dropped them) and, on the
/// writer's connection, by the authorizer. Insert triggers also keep the chain contiguous:
/// a new row must take the next `seq` and link to the current head, and a checkpoint must
/// name a size the log has, with that size's hash, and be newer than every other checkpoint.
/// These guards make mistakes and casual edits fail; an attacker with the file can drop them,
/// which is what ``AuditVerifier`` and signed checkpoints are for.
///
/// `audit_blocks` and `audit_terms` say which field values occur in which runs of entries, for
/// the compliance queries (``AuditIndex``). The writer adds them in batches, so they may lag
/// the log by a batch. They are not evidence, but queries rely on them, so ``AuditVerifier``
/// compares them with the entries and readers distrust block rows that do not tile the log.
/// Version 1 indexed every entry in `audit_index` instead; version 2 drops that table, and the
/// writer rebuilds the index from the log when it opens it.
public enum AuditSchema {
    /// The tables the writer's authorizer protects.
    public static let appendOnlyTables: Set<String> = [
        "audit_log", "audit_checkpoints", "audit_blocks", "audit_terms",
    ]

    /// Schema scripts, oldest first (`PRAGMA user_version` counts them). Never edit a shipped one.
    public static let migrator = Migrator(scripts: [version1, version2, version3])

    /// The schema version from which `audit_blocks` and `audit_terms` hold the index as this
    /// program writes it; a reader treats an older file's index as absent.
    static let currentIndexVersion: Int64 = 3

    /// The tables the writer may drop and recreate to rebuild the index (``rebuildIndex``).
    static let indexTables: Set<String> = ["audit_blocks", "audit_terms"]

    /// Empties the index by recreating its tables as the current version defines them, with
    /// their triggers (which someone who edited the index may have dropped). Run it in the
    /// transaction that writes the index again, on a connection whose authorizer allows it.
    ///
    /// It is the script of `currentIndexVersion`, which drops and recreates both tables,
    /// preceded by placeholders for a table someone dropped, so that its drops find them.
    static let rebuildIndex = """
        CREATE TABLE IF NOT EXISTS audit_terms(term);
        CREATE TABLE IF NOT EXISTS audit_blocks(first_seq);

        """ + version3

    /// Brings the schema of `database` up to date.
    public static func migrate(_ database: Database) throws(AuditError) {
        do {
            try migrator.migrate(database)
        } catch {
            throw AuditError.store(error, operation: "migrate")
        }
    }

    private static let version1 = """
        CREATE TABLE audit_log(
            seq INTEGER PRIMARY KEY,
            prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
            entry BLOB NOT NULL,
            hash BLOB NOT NULL CHECK (length(hash) = 32)
        );
        CREATE TABLE audit_checkpoints(
            size INTEGER PRIMARY KEY,
            head_hash BLOB NOT NULL CHECK (length(head_hash) = 32),
            signed_note TEXT NOT NULL,
            signed_at INTEGER NOT NULL
        );
        CREATE TABLE audit_index(
            seq INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            actor TEXT NOT NULL,
            patient TEXT,
            event TEXT NOT NULL,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL,
            grant_id TEXT,
            resource_count INTEGER NOT NULL
        );
        CREATE INDEX audit_index_actor ON audit_index(actor, seq);
        CREATE INDEX audit_index_patient ON audit_index(patient, seq);
        CREATE INDEX audit_index_event ON audit_index(event, seq);
        CREATE INDEX audit_index_grant ON audit_index(grant_id, seq);
        CREATE INDEX audit_index_time ON audit_index(time);

        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER audit_log_append_only BEFORE INSERT ON audit_log
        WHEN NEW.seq IS NOT coalesce((SELECT max(seq) FROM audit_log), 0) + 1
            OR NEW.prev_hash IS NOT coalesce(
                (SELECT hash FROM audit_log WHERE seq = NEW.seq - 1), zeroblob(32))
        BEGIN SELECT RAISE(ABORT, 'audit_log rows must extend the chain'); END;

        CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
        CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
        CREATE TRIGGER audit_checkpoints_append_only BEFORE INSERT ON audit_checkpoints
        WHEN NEW.size <= coalesce((SELECT max(size) FROM audit_checkpoints), 0)
            OR NEW.head_hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.size)
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoints rows must name a newer head'); END;

        CREATE TRIGGER audit_index_no_update BEFORE UPDATE ON audit_index
        BEGIN SELECT RAISE(ABORT, 'audit_index is append-only'); END;
        CREATE TRIGGER audit_index_no_delete BEFORE DELETE ON audit_index
        BEGIN SELECT RAISE(ABORT, 'audit_index is append-only'); END;
        """

    private static let version2 = """
        DROP TABLE audit_index;
        CREATE TABLE audit_blocks(
            first_seq INTEGER PRIMARY KEY,
            last_seq INTEGER NOT NULL CHECK (last_seq >= first_seq),
            min_time INTEGER NOT NULL,
            max_time INTEGER NOT NULL
        );
        CREATE TABLE audit_terms(
            term TEXT NOT NULL,
            block INTEGER NOT NULL,
            PRIMARY KEY (term, block)
        ) WITHOUT ROWID;

        CREATE TRIGGER audit_blocks_no_update BEFORE UPDATE ON audit_blocks
        BEGIN SELECT RAISE(ABORT, 'audit_blocks is append-only'); END;
        CREATE TRIGGER audit_blocks_no_delete BEFORE DELETE ON audit_blocks
        BEGIN SELECT RAISE(ABORT, 'audit_blocks is append-only'); END;
        CREATE TRIGGER audit_terms_no_update BEFORE UPDATE ON audit_terms
        BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;
        CREATE TRIGGER audit_terms_no_delete BEFORE DELETE ON audit_terms
        BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;
        """

    /// Version 3 indexes an entry under every patient it concerns, also those named only by
    /// their Patient resource (a search returning several patients). The index is derived
    /// data: its tables are emptied by being recreated, and the writer rebuilds them from the
    /// log when it opens it, as after version 2. The definitions repeat version 2's on purpose:
    /// a shipped script never changes, so none is assembled from text another script shares.
    private static let version3 = """
        DROP TABLE audit_terms;
        DROP TABLE audit_blocks;
        CREATE TABLE audit_blocks(
            first_seq INTEGER PRIMARY KEY,
            last_seq INTEGER NOT NULL CHECK (last_seq >= first_seq),
            min_time INTEGER NOT NULL,
            max_time INTEGER NOT NULL
        );
        CREATE TABLE audit_terms(
            term TEXT NOT NULL,
            block INTEGER NOT NULL,
            PRIMARY KEY (term, block)
        ) WITHOUT ROWID;

        CREATE TRIGGER audit_blocks_no_update BEFORE UPDATE ON audit_blocks
        BEGIN SELECT RAISE(ABORT, 'audit_blocks is append-only'); END;
        CREATE TRIGGER audit_blocks_no_delete BEFORE DELETE ON audit_blocks
        BEGIN SELECT RAISE(ABORT, 'audit_blocks is append-only'); END;
        CREATE TRIGGER audit_terms_no_update BEFORE UPDATE ON audit_terms
        BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;
        CREATE TRIGGER audit_terms_no_delete BEFORE DELETE ON audit_terms
        BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;
        """
}
