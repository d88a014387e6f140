//! Several reads in one read transaction, on the calling thread
//! ([`Store::snapshot`]): on SQLite each read outside a transaction takes
//! and releases the WAL read lock on its own (a mutex shared by the
//! process's connections and an `fcntl` call), which costs more than an
//! indexed lookup; inside one transaction the reads share one lock and see
//! one state of the database.

use std::cell::RefCell;
use std::sync::Arc;

use diesel::Connection;
use diesel::connection::TransactionManager;

use crate::{AnyConnection, Backend, PooledConnection, Store};

/// The connection a [`Store::snapshot`] holds for its thread, and which
/// pool it came from (reads of another pool do not use it).
struct Pinned {
    pool: Arc<()>,
    conn: PooledConnection,
}

thread_local! {
    static PINNED: RefCell<Option<Pinned>> = const { RefCell::new(None) };
}

type Transactions = <AnyConnection as Connection>::TransactionManager;

/// Ends the snapshot's transaction and gives its connection back, also
/// when the reads panic.
struct End;

impl Drop for End {
    fn drop(&mut self) {
        let pinned = PINNED.with(|cell| cell.try_borrow_mut().ok().and_then(|mut p| p.take()));
        if let Some(mut p) = pinned
            && Transactions::commit_transaction(&mut p.conn).is_err()
        {
            // Should this fail as well, the connection goes back to the
            // pool inside a transaction, which its `has_broken` check
            // refuses: it is closed, not lent again.
            let _ = Transactions::rollback_transaction(&mut p.conn);
        }
    }
}

impl Store {
    /// Runs `f` with every read this store makes on the calling thread in
    /// one read transaction, on one connection: on SQLite one snapshot and
    /// one WAL read lock for all of them. `f` must only read: a write made
    /// inside it goes through its own connection, and a read after it in
    /// `f` would not see it. A read that opens its own transaction gets a
    /// savepoint in this one.
    ///
    /// On PostgreSQL, or when no connection is free, or inside another
    /// snapshot, `f` runs as it is: each read on its own (a transaction
    /// would cost PostgreSQL two more round trips than it saves).
    pub fn snapshot<T>(&self, f: impl FnOnce() -> T) -> T {
        let pinned_here = PINNED.with(|cell| cell.try_borrow().map_or(true, |p| p.is_some()));
        if self.backend() != Backend::Sqlite || pinned_here {
            return f();
        }
        let Ok(mut conn) = self.pool.get() else {
            return f();
        };
        if Transactions::begin_transaction(&mut conn).is_err() {
            return f();
        }
        PINNED.with(|cell| {
            *cell.borrow_mut() = Some(Pinned {
                pool: self.pool_id.clone(),
                conn,
            });
        });
        let _end = End;
        f()
    }

    /// Runs `f` on the connection of this thread's snapshot when there is
    /// one of this store's pool, else gives `f` back.
    pub(crate) fn in_snapshot<R, F>(&self, f: F) -> Result<R, F>
    where
        F: FnOnce(&mut AnyConnection) -> R,
    {
        PINNED.with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else {
                return Err(f);
            };
            match slot.as_mut() {
                Some(p) if Arc::ptr_eq(&p.pool, &self.pool_id) => Ok(f(&mut p.conn)),
                _ => Err(f),
            }
        })
    }
}
