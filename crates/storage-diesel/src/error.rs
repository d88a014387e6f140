//! Storage errors, and their translation into the domain's `StoreError`.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use scenario_engine::service::StoreError;

/// What can go wrong below the repository traits.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database URL names no backend we know.
    #[error(
        "unsupported database URL scheme `{0}`: use postgres://, postgresql://, sqlite:// or a file path"
    )]
    UnsupportedUrl(String),
    /// Could not create the SQLite file's directory.
    #[error("cannot create the database directory {path}")]
    CreateDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Could not connect.
    #[error("cannot connect to the database")]
    Connect(#[source] diesel::ConnectionError),
    /// The pool could not hand out a connection.
    #[error("no database connection available")]
    Pool(#[source] r2d2::Error),
    /// A query failed.
    #[error("database query failed")]
    Query(#[source] DieselError),
    /// Migrations failed.
    #[error("database migration failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database has migrations this build does not know: a newer
    /// version migrated it. Nothing was changed.
    #[error(
        "the database has migrations this version of mentor-scheduler does not know ({}): a newer version migrated it; run that version (or newer) against this database",
        .0.join(", ")
    )]
    UnknownMigrations(Vec<String>),
    /// A row holds a value the domain cannot represent.
    #[error("corrupt row: {0}")]
    Corrupt(&'static str),
    /// An import's feed reported a bad line: its transaction is rolled
    /// back. Never leaves the crate (`import_mentors` answers `None`).
    #[error("the import has bad lines; rolled back")]
    ImportRejected,
    /// A run's write under a lease that is no longer the run's (another
    /// process took it over): refused, and rolled back.
    #[error("the run's lease is held by another process")]
    LeaseLost,
    /// A write about a mentor that no longer exists (erased since it was
    /// read): refused, and rolled back, as a foreign key refuses it.
    #[error("a mentor of this write does not exist (erased meanwhile)")]
    MentorGone,
}

impl From<DieselError> for StorageError {
    fn from(e: DieselError) -> Self {
        Self::Query(e)
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(e: r2d2::Error) -> Self {
        Self::Pool(e)
    }
}

/// Which uniqueness rule a violation hit. PostgreSQL names the constraint;
/// SQLite only says `UNIQUE constraint failed: table.column`, so both are read.
fn conflict_name(info: &dyn diesel::result::DatabaseErrorInformation) -> &'static str {
    let constraint = info.constraint_name().unwrap_or_default();
    let message = info.message();
    let mentions = |needle: &str| constraint.contains(needle) || message.contains(needle);
    if mentions("dedupe_key") || mentions("notification_keys") {
        "notifications.dedupe_key"
    } else if mentions("activity_events") {
        "activity_events.event_id"
    } else if mentions("runs_one_running") || mentions("runs.lock_key") {
        "runs.lock"
    } else if mentions("runs_job_instant") || mentions("runs.job_id") {
        "runs.job_instant"
    } else if mentions("run_batches") {
        "run_batches.batch_index"
    } else if mentions("batch_results") {
        "batch_results.batch_index"
    } else if mentions("jobs_name_key") || mentions("jobs.name") {
        "jobs.name"
    } else if mentions("mentors_pkey") || mentions("mentors.user_id") {
        "mentors.user_id"
    } else {
        "unique"
    }
}

impl StorageError {
    /// The uniqueness rule this error hit, if it is a unique violation.
    pub(crate) fn conflict(&self) -> Option<&'static str> {
        match self {
            Self::LeaseLost => Some("runs.lease"),
            Self::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                Some(conflict_name(info.as_ref()))
            }
            _ => None,
        }
    }
}

impl From<StorageError> for StoreError {
    fn from(e: StorageError) -> Self {
        match e.conflict() {
            Some(name) => StoreError::Conflict(name),
            None => StoreError::Backend(Box::new(e)),
        }
    }
}

impl From<StorageError> for run_log::StoreError {
    fn from(e: StorageError) -> Self {
        match e.conflict() {
            Some(name) => run_log::StoreError::Conflict(name),
            None => run_log::StoreError::Backend(Box::new(e)),
        }
    }
}

impl From<StorageError> for scheduler_core::StoreError {
    fn from(e: StorageError) -> Self {
        match e.conflict() {
            Some(name) => scheduler_core::StoreError::Conflict(name),
            None => scheduler_core::StoreError::Backend(Box::new(e)),
        }
    }
}
