//! Connections: the backend chosen from the URL, the pool, per-connection
//! settings, migrations, and write transactions.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::StorageError;

const PG: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// One connection to either backend; ordinary diesel code runs on it, and
/// `per_backend!` reaches what `MultiBackend` cannot express.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL.
    Postgres(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// Runs the same diesel code on the concrete connection, for what
/// `MultiBackend` cannot express (`ON CONFLICT`, multi-row inserts).
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::conn::AnyConnection::Postgres($c) => $body,
            $crate::conn::AnyConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use per_backend;

/// The backend of a database URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// `postgres` or `sqlite`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// A parsed database URL (docs/operations.md, "Database URL").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// `postgres://` or `postgresql://`.
    Postgres(String),
    /// A SQLite file.
    Sqlite(PathBuf),
}

impl DatabaseTarget {
    /// Reads a URL: `postgres://` and `postgresql://` mean PostgreSQL;
    /// `sqlite:///abs`, `sqlite://rel`, `sqlite:PATH`, `file:PATH` or a plain
    /// path mean SQLite; any other `scheme://` is refused, so that a typo
    /// never quietly creates a SQLite file.
    ///
    /// # Errors
    /// [`StorageError::UnsupportedUrl`].
    ///
    /// ```
    /// use storage_diesel::DatabaseTarget;
    /// assert!(matches!(DatabaseTarget::parse("postgres://u@h/db"), Ok(DatabaseTarget::Postgres(_))));
    /// assert_eq!(DatabaseTarget::parse("sqlite:///tmp/x.db").unwrap(), DatabaseTarget::Sqlite("/tmp/x.db".into()));
    /// assert_eq!(DatabaseTarget::parse("sqlite://data/x.db").unwrap(), DatabaseTarget::Sqlite("data/x.db".into()));
    /// assert!(DatabaseTarget::parse("postgress://u@h/db").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        for prefix in ["sqlite://", "sqlite:", "file:"] {
            if let Some(path) = url.strip_prefix(prefix) {
                if path.is_empty() {
                    return Err(StorageError::UnsupportedUrl(url.to_owned()));
                }
                return Ok(Self::Sqlite(PathBuf::from(path)));
            }
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StorageError::UnsupportedUrl(scheme.to_owned()));
        }
        if url.is_empty() {
            return Err(StorageError::UnsupportedUrl(String::new()));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    /// The backend.
    pub const fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    fn connect(&self) -> Result<AnyConnection, diesel::ConnectionError> {
        match self {
            Self::Postgres(url) => PgConnection::establish(url).map(AnyConnection::Postgres),
            Self::Sqlite(path) => {
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                // Per connection, so they cannot be set once at start.
                // A 32 MiB page cache (default 2 MiB) and statement
                // journals in memory keep a run's batches off pread; a
                // checkpoint every 16,384 WAL pages (64 MiB, default 1,000)
                // fsyncs far less often (a run over 100,000 mentors: 21 s
                // to 17 s; docs/benchmarks.md). Memory stays bounded.
                c.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; \
                     PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 16384;",
                )
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }
}

/// The r2d2 manager: connects to the backend the URL named, never guessing.
#[derive(Debug)]
pub struct Manager(DatabaseTarget);

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        self.0
            .connect()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    /// Checked at every checkout. A PostgreSQL connection can break
    /// (server restart, network); a SQLite connection is a file handle in
    /// this process and cannot, so it is not asked: the `SELECT 1` is
    /// parsed anew at each checkout, several times per batch of a run.
    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        match conn {
            AnyConnection::Postgres(_) => conn
                .batch_execute("SELECT 1")
                .map_err(diesel::r2d2::Error::QueryError),
            AnyConnection::Sqlite(_) => Ok(()),
        }
    }

    /// A connection left inside a transaction (one whose end failed) is
    /// not lent again.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// The connection pool.
pub type Pool = r2d2::Pool<Manager>;

/// Opens the database: creates the SQLite file and its directory (WAL mode),
/// runs pending migrations, and builds the pool.
///
/// # Errors
/// [`StorageError`] when the URL is unsupported, the database unreachable,
/// or a migration fails.
pub fn open_pool(target: &DatabaseTarget, max_size: u32) -> Result<Pool, StorageError> {
    if let DatabaseTarget::Sqlite(path) = target
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| StorageError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut first = target.connect().map_err(StorageError::Connect)?;
    if let AnyConnection::Sqlite(c) = &mut first {
        // Persistent in the file: set once, before the pool opens. Another
        // process starting at the same moment may hold the lock the switch
        // needs, and SQLite then answers "database is locked" at once,
        // without waiting out the busy timeout: try again, as a migration
        // that lost a race is.
        let mut attempt = 1;
        loop {
            match c.batch_execute("PRAGMA journal_mode = WAL;") {
                Ok(()) => break,
                Err(_) if attempt < SQLITE_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(SQLITE_RETRY_PAUSE);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    migrate(&mut first)?;
    drop(first);
    pool(target, max_size)
}

/// A pool of up to `max_size` connections to a database already opened
/// (and migrated) by [`open_pool`]. One is opened at once; the others when
/// they are first wanted, and those idle for 10 minutes are closed again,
/// so that an instance holds on a PostgreSQL server only the connections
/// its load needs. A caller waits at most 10 s for a connection.
pub(crate) fn pool(target: &DatabaseTarget, max_size: u32) -> Result<Pool, StorageError> {
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(Manager(target.clone()))
        .map_err(StorageError::Pool)
}

/// The key of the PostgreSQL advisory lock the migrations run under
/// (`mentor_m` in ASCII): instances that start together migrate one after
/// the other, and the later ones find nothing pending.
const MIGRATION_LOCK: i64 = 0x6d65_6e74_6f72_5f6d;

/// How often a SQLite migration that lost a race with another process is
/// tried again (each after [`SQLITE_RETRY_PAUSE`]): the other process's
/// migration then stands, and nothing is pending.
const SQLITE_ATTEMPTS: u32 = 50;
const SQLITE_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Runs pending migrations of the connection's backend, safe when several
/// processes start together: on PostgreSQL under an advisory lock (each
/// waits for the one migrating), on SQLite by trying again after a lost
/// race (the busy timeout and one writer at a time do the rest). Refuses,
/// writing nothing, a database that has a migration this build does not
/// know: it was migrated by a newer version.
///
/// # Errors
/// [`StorageError::UnknownMigrations`]; [`StorageError::Migration`].
pub fn migrate(conn: &mut AnyConnection) -> Result<(), StorageError> {
    match conn {
        AnyConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let done = known_only(c, PG).and_then(|()| {
                c.run_pending_migrations(PG)
                    .map(drop)
                    .map_err(StorageError::Migration)
            });
            let unlocked = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            done?;
            unlocked?;
            Ok(())
        }
        AnyConnection::Sqlite(c) => {
            let mut attempt = 1;
            loop {
                // Reading the applied migrations can lose the same race.
                let tried = known_only(c, SQLITE).and_then(|()| {
                    c.run_pending_migrations(SQLITE)
                        .map(drop)
                        .map_err(StorageError::Migration)
                });
                match tried {
                    Ok(()) => return Ok(()),
                    Err(e @ StorageError::UnknownMigrations(_)) => return Err(e),
                    Err(_) if attempt < SQLITE_ATTEMPTS => {
                        attempt += 1;
                        std::thread::sleep(SQLITE_RETRY_PAUSE);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// Fails with [`StorageError::UnknownMigrations`] when the database has
/// applied a migration that `known` does not hold.
fn known_only<C>(c: &mut C, known: EmbeddedMigrations) -> Result<(), StorageError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let ours: Vec<String> = MigrationSource::<C::Backend>::migrations(&known)
        .map_err(StorageError::Migration)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let unknown: Vec<String> = c
        .applied_migrations()
        .map_err(StorageError::Migration)?
        .into_iter()
        .map(|v| v.to_string())
        .filter(|v| !ours.contains(v))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(StorageError::UnknownMigrations(unknown))
    }
}

/// Whether every embedded migration has been applied.
///
/// # Errors
/// [`StorageError::Migration`] when the migration table cannot be read.
pub fn migrations_applied(conn: &mut AnyConnection) -> Result<bool, StorageError> {
    match conn {
        AnyConnection::Postgres(c) => c.has_pending_migration(PG),
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE),
    }
    .map(|pending| !pending)
    .map_err(StorageError::Migration)
}

/// Runs `f` in one write transaction. On SQLite it starts with
/// `BEGIN IMMEDIATE`, so that two writers queue on the lock (busy timeout)
/// instead of failing when a reading transaction tries to become a writer.
pub(crate) fn write_tx<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        AnyConnection::Postgres(_) => conn.transaction(f),
        AnyConnection::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(e.into())
                    }
                },
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Nullable, Text};

    use super::*;
    use crate::testdb::TestDb;

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Link {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Nullable<Text>)]
        evaluation_id: Option<String>,
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// An empty SQLite file (no migration applied) and a connection to it
    /// with foreign keys on; the file goes with the [`TestDb`].
    fn fresh_sqlite() -> (TestDb, SqliteConnection) {
        let db = TestDb::sqlite();
        let mut c = SqliteConnection::establish(db.url()).unwrap();
        c.batch_execute("PRAGMA foreign_keys = ON;").unwrap();
        (db, c)
    }

    fn count(c: &mut SqliteConnection, table: &str) -> i64 {
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<Count>(c)
            .unwrap()
            .n
    }

    fn links(c: &mut SqliteConnection) -> Vec<Link> {
        diesel::sql_query("SELECT id, evaluation_id FROM notifications ORDER BY id")
            .load(c)
            .unwrap()
    }

    fn table_sql(c: &mut SqliteConnection, table: &str) -> String {
        #[derive(QueryableByName)]
        struct Sql {
            #[diesel(sql_type = Text)]
            sql: String,
        }
        diesel::sql_query(format!(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
        ))
        .get_result::<Sql>(c)
        .unwrap()
        .sql
    }

    const MENTOR: &str = "INSERT INTO mentors (user_id, org_id, status, sessions_count, pref_all, \
        pref_inactivity, pref_milestone, pref_certification_expiry, created_at, updated_at) \
        VALUES ('usr_1', 'org_1', 'active', 0, 1, 1, 1, 1, 0, 0);";

    fn evaluation(id: &str, user: &str) -> String {
        format!(
            "INSERT INTO evaluations (id, user_id, scenario_type, should_notify, evaluated_at, \
             evaluation_metadata, reason, reason_code, run_id, dry_run, batch_index) \
             VALUES ('{id}', '{user}', 'inactivity', 1, 0, '{{}}', 'r', 'threshold_reached', NULL, 0, NULL);"
        )
    }

    fn notification(id: &str, evaluation: &str) -> String {
        format!(
            "INSERT INTO notifications (id, user_id, org_id, scenario_type, dedupe_key, payload, \
             status, attempts, created_at, updated_at, evaluation_id) \
             VALUES ('{id}', 'usr_1', 'org_1', 'inactivity', 'key_{id}', '{{}}', 'pending', 0, 0, 0, {evaluation});"
        )
    }

    /// Migration 000007 rebuilds `evaluations` and `notifications` on
    /// SQLite: every row, and every notification's link to its evaluation,
    /// survives it and its revert.
    #[test]
    fn rebuilding_the_run_tables_keeps_rows_and_links() {
        let (_db, mut c) = fresh_sqlite();
        for _ in 0..6 {
            c.run_next_migration(SQLITE).unwrap();
        }
        assert!(!table_sql(&mut c, "evaluations").contains("DEFERRABLE"));
        c.batch_execute(&format!(
            "{MENTOR}{}{}{}{}",
            evaluation("ev_1", "usr_1"),
            evaluation("ev_2", "usr_1"),
            notification("nt_1", "'ev_1'"),
            notification("nt_2", "NULL"),
        ))
        .unwrap();
        let before = links(&mut c);
        assert_eq!(before[0].evaluation_id.as_deref(), Some("ev_1"));

        c.run_next_migration(SQLITE).unwrap();
        assert!(table_sql(&mut c, "evaluations").contains("DEFERRABLE INITIALLY DEFERRED"));
        assert!(table_sql(&mut c, "notifications").contains("ON CONFLICT FAIL"));
        assert_eq!(count(&mut c, "evaluations"), 2);
        assert_eq!(links(&mut c), before);
        // The foreign keys still hold: deleting an evaluation unlinks its
        // notification, erasing the mentor takes the rest.
        c.batch_execute("DELETE FROM evaluations WHERE id = 'ev_1';")
            .unwrap();
        assert_eq!(links(&mut c)[0].evaluation_id, None);

        c.batch_execute(&format!(
            "{}UPDATE notifications SET evaluation_id = 'ev_1' WHERE id = 'nt_1';",
            evaluation("ev_1", "usr_1")
        ))
        .unwrap();
        c.revert_last_migration(SQLITE).unwrap();
        assert!(!table_sql(&mut c, "evaluations").contains("DEFERRABLE"));
        assert_eq!(count(&mut c, "evaluations"), 2);
        assert_eq!(links(&mut c), before);

        c.batch_execute("DELETE FROM mentors;").unwrap();
        assert_eq!(count(&mut c, "evaluations"), 0);
        assert_eq!(count(&mut c, "notifications"), 0);
    }

    /// Migration 000008 rebuilds `notification_keys` and
    /// `mentor_milestones` as WITHOUT ROWID tables: their rows survive it
    /// and its revert, a key is still once only, and erasing the mentor
    /// still takes them.
    #[test]
    fn rebuilding_the_key_tables_keeps_rows_and_rules() {
        let (_db, mut c) = fresh_sqlite();
        for _ in 0..7 {
            c.run_next_migration(SQLITE).unwrap();
        }
        c.batch_execute(&format!(
            "{MENTOR}INSERT INTO notification_keys (dedupe_key, user_id, created_at) \
             VALUES ('usr_1:inactivity:1', 'usr_1', 5), ('usr_1:inactivity:2', 'usr_1', 6); \
             INSERT INTO mentor_milestones (user_id, milestone_type, achieved_at) \
             VALUES ('usr_1', 'first_session', 7);"
        ))
        .unwrap();
        let rows = |c: &mut SqliteConnection| {
            (count(c, "notification_keys"), count(c, "mentor_milestones"))
        };

        c.run_next_migration(SQLITE).unwrap();
        for table in ["notification_keys", "mentor_milestones"] {
            let sql = table_sql(&mut c, table);
            assert!(sql.contains("WITHOUT ROWID"), "{sql}");
            assert!(sql.contains("DEFERRABLE INITIALLY DEFERRED"), "{sql}");
        }
        assert_eq!(rows(&mut c), (2, 1));
        // Once only, still: a taken key and a recorded milestone refuse a second row.
        assert!(
            c.batch_execute(
                "INSERT INTO notification_keys (dedupe_key, user_id, created_at) \
                 VALUES ('usr_1:inactivity:1', 'usr_1', 9);"
            )
            .is_err()
        );
        assert!(
            c.batch_execute(
                "INSERT INTO mentor_milestones (user_id, milestone_type, achieved_at) \
                 VALUES ('usr_1', 'first_session', 9);"
            )
            .is_err()
        );

        c.revert_last_migration(SQLITE).unwrap();
        assert!(!table_sql(&mut c, "notification_keys").contains("WITHOUT ROWID"));
        assert_eq!(rows(&mut c), (2, 1));
        c.run_next_migration(SQLITE).unwrap();

        c.batch_execute("DELETE FROM mentors;").unwrap();
        assert_eq!(rows(&mut c), (0, 0));
    }

    /// With FAIL constraints and deferred foreign keys, a failing write
    /// still leaves nothing: `write_tx` rolls the whole transaction back,
    /// whether a multi-row statement fails halfway or the foreign keys
    /// fail at COMMIT; and the connection is usable afterwards.
    #[test]
    fn a_failed_write_leaves_nothing_half_written() {
        let (_db, c) = fresh_sqlite();
        let mut c = AnyConnection::Sqlite(c);
        migrate(&mut c).unwrap();
        c.batch_execute(MENTOR).unwrap();

        // The second row breaks NOT NULL after the first was written.
        let halfway = write_tx(&mut c, |c| {
            c.batch_execute(
                "INSERT INTO evaluations (id, user_id, scenario_type, should_notify, evaluated_at, \
                 evaluation_metadata, reason, reason_code, dry_run) VALUES \
                 ('ev_1', 'usr_1', 'inactivity', 1, 0, '{}', 'r', 'threshold_reached', 0), \
                 ('ev_2', 'usr_1', 'inactivity', 1, 0, '{}', NULL, 'threshold_reached', 0);",
            )
        });
        assert!(halfway.is_err());

        // An unknown mentor: caught at COMMIT.
        let at_commit = write_tx(&mut c, |c| {
            c.batch_execute(&format!(
                "{}{}",
                evaluation("ev_3", "usr_1"),
                evaluation("ev_4", "usr_nobody")
            ))
        });
        let err = at_commit.expect_err("the foreign key fails at COMMIT");
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");

        let AnyConnection::Sqlite(inner) = &mut c else {
            unreachable!()
        };
        assert_eq!(count(inner, "evaluations"), 0);
        write_tx(&mut c, |c| c.batch_execute(&evaluation("ev_5", "usr_1"))).unwrap();
        let AnyConnection::Sqlite(inner) = &mut c else {
            unreachable!()
        };
        assert_eq!(count(inner, "evaluations"), 1);
    }
}
