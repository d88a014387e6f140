//! Storage for Mentor Scheduler: the diesel implementations of the
//! repository traits of the pure crates, on SQLite (the embedded default)
//! and PostgreSQL, from one code base.
//!
//! The backend is chosen from the database URL ([`DatabaseTarget::parse`]),
//! migrations are embedded and applied by [`Store::open`], and every SQL
//! statement of the service lives in this crate.

mod batches;
mod checkpoint;
mod conn;
mod convert;
mod error;
mod evaluations;
mod expiring;
mod idempotency;
mod import;
mod jobs;
mod links;
mod literal;
mod mentor_rows;
mod mentors;
mod notifications;
mod pages;
mod rows;
mod runs;
mod schema;
mod snapshot;
#[cfg(feature = "test-support")]
pub mod testdb;
mod totals;

pub use conn::{
    AnyConnection, Backend, DatabaseTarget, Pool, migrate, migrations_applied, open_pool,
};
pub use error::StorageError;
pub use expiring::ExpiringCertification;

use scenario_engine::service::StoreError;

/// A pool's connections at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open (idle or lent out).
    pub connections: u32,
    /// Of them, idle.
    pub idle_connections: u32,
}

/// The diesel store: one pool, either backend.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    target: DatabaseTarget,
    backend: Backend,
    /// SQLite: the background WAL checkpoints (stopped with the last clone).
    checkpointer: Option<std::sync::Arc<checkpoint::Checkpointer>>,
    /// SQLite: the one writer of this process (see [`Store::write`]).
    writer: Option<std::sync::Arc<std::sync::Mutex<()>>>,
    /// The identity of `pool`, shared by its clones ([`Store::snapshot`]).
    pool_id: std::sync::Arc<()>,
}

/// A pooled connection.
pub type PooledConnection = r2d2::PooledConnection<conn::Manager>;

impl Store {
    /// Opens the database at `url` (creating a SQLite file and its directory
    /// when needed) and applies pending migrations.
    ///
    /// # Errors
    /// [`StorageError`] when the URL is unsupported, the database is
    /// unreachable or a migration fails.
    pub fn open(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let target = DatabaseTarget::parse(url)?;
        let pool = open_pool(&target, pool_size)?;
        let checkpointer = match &target {
            DatabaseTarget::Sqlite(path) => Some(std::sync::Arc::new(
                checkpoint::Checkpointer::start(path).map_err(StorageError::Connect)?,
            )),
            DatabaseTarget::Postgres(_) => None,
        };
        let writer = checkpointer.as_ref().map(|_| std::sync::Arc::default());
        Ok(Self {
            pool,
            backend: target.backend(),
            target,
            checkpointer,
            writer,
            pool_id: std::sync::Arc::default(),
        })
    }

    /// Another handle on the same database with a pool of its own,
    /// `pool_size` connections: the users of one handle never wait for the
    /// other's connections (the service gives its runs and loops one pool
    /// and its HTTP handlers another). What one database shares in a
    /// process stays shared: on SQLite, the queue of this process's
    /// writers and the WAL checkpointer.
    ///
    /// # Errors
    /// [`StorageError`] when the database is unreachable.
    pub fn with_own_pool(&self, pool_size: u32) -> Result<Self, StorageError> {
        Ok(Self {
            pool: conn::pool(&self.target, pool_size)?,
            target: self.target.clone(),
            backend: self.backend,
            checkpointer: self.checkpointer.clone(),
            writer: self.writer.clone(),
            pool_id: std::sync::Arc::default(),
        })
    }

    /// Runs `f` in one write transaction ([`conn::write_tx`]). On SQLite,
    /// which has one writer, the busy writers of this process queue here
    /// first: a writer that finds the database locked otherwise sleeps in
    /// SQLite's busy handler (1, 2, 5, 10 ms...) rather than starting the
    /// moment the lock is free, and a run's batches and the delivery
    /// worker's claims would lose milliseconds to each other on every
    /// transaction. Other processes still meet the busy timeout.
    pub(crate) fn write<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StorageError> + From<diesel::result::Error>,
    {
        let mut conn = self.pool.get().map_err(StorageError::Pool)?;
        let _turn = self
            .writer
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        conn::write_tx(&mut conn, f)
    }

    /// Says that a large write committed, so that SQLite's WAL is
    /// checkpointed in the background instead of inside a later commit.
    pub(crate) fn large_write_committed(&self) {
        if let Some(c) = &self.checkpointer {
            c.committed();
        }
    }

    /// How many background WAL checkpoints ran (SQLite; 0 on PostgreSQL).
    pub fn background_checkpoints(&self) -> u64 {
        self.checkpointer.as_ref().map_or(0, |c| c.done())
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool's connections now: open, and of those idle.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle_connections: state.idle_connections,
        }
    }

    /// Whether a short read may run on the calling thread rather than be
    /// handed to a blocking pool: the database is the embedded SQLite (a
    /// read is a lookup in this process, never a network round trip, and
    /// in WAL mode it never waits for a writer) and a connection is idle
    /// now, so the read does not wait for one. The hand-over to another
    /// thread and back costs more than an indexed SQLite lookup.
    pub fn reads_in_place(&self) -> bool {
        self.backend == Backend::Sqlite && self.pool.state().idle_connections > 0
    }

    /// A connection from the pool.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when no connection is available in time.
    pub fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::from(StorageError::Pool(e)))
    }

    /// Runs `f` on a pooled connection (the one of this thread's
    /// [`Store::snapshot`], if any); its errors, and the pool's, become
    /// the calling port's `StoreError` (each pure crate has its own).
    pub(crate) fn with_conn<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, StorageError>,
    ) -> Result<T, E> {
        let f = match self.in_snapshot(f) {
            Ok(read) => return read.map_err(E::from),
            Err(f) => f,
        };
        let mut conn = self.pool.get().map_err(StorageError::Pool)?;
        f(&mut conn).map_err(E::from)
    }

    /// Whether the database answers and every migration is applied (`/readyz`).
    ///
    /// # Errors
    /// [`StorageError`] when the database does not answer.
    pub fn ready(&self) -> Result<bool, StorageError> {
        let mut conn = self.pool.get()?;
        migrations_applied(&mut conn)
    }
}
