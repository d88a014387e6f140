//! Thin handlers: parse the wire type, call one service method off the
//! async workers (`web::block`; a short read in place, see [`read`]), map
//! the result to a DTO.

pub mod certifications;
pub mod evaluations;
pub mod health;
pub mod invocations;
pub mod jobs;
pub mod mentors;
pub mod notifications;
pub mod runs;
pub mod schedules;

use actix_web::error::BlockingError;
use actix_web::web;
use run_log::BatchWindow;
use storage_diesel::Store;

/// The most batch results a run's detail reads in place ([`read`]): a
/// window of at most this many is a short read; the whole list of a long
/// run is not.
const SHORT_WINDOW: u32 = 100;

/// Runs a short read (one indexed lookup or a few): in place on the HTTP
/// worker when `store` allows it ([`Store::reads_in_place`]: the embedded
/// SQLite with a connection idle), else on the blocking pool as every
/// other call. In place it saves two thread switches, which cost more
/// than the read (docs/benchmarks.md, "Reads through HTTP").
///
/// # Errors
/// [`BlockingError`] when the blocking pool is gone.
pub(crate) async fn read<R: Send + 'static>(
    store: &Store,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, BlockingError> {
    if store.reads_in_place() {
        Ok(f())
    } else {
        web::block(f).await
    }
}

/// Runs a read that is short when `short` says so ([`read`]), else on the
/// blocking pool.
///
/// # Errors
/// [`BlockingError`] when the blocking pool is gone.
async fn read_if<R: Send + 'static>(
    store: &Store,
    short: bool,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, BlockingError> {
    if short {
        read(store, f).await
    } else {
        web::block(f).await
    }
}

/// Reads a run's detail with the batch results in `window`: a short read
/// ([`read`]) when the window holds at most [`SHORT_WINDOW`] results, else
/// on the blocking pool.
///
/// # Errors
/// [`BlockingError`] when the blocking pool is gone.
pub(crate) async fn read_detail<R: Send + 'static>(
    store: &Store,
    window: BatchWindow,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, BlockingError> {
    read_if(store, window.limit.is_some_and(|l| l <= SHORT_WINDOW), f).await
}

/// Reads a page of a list: a short read ([`read`]) when `unfiltered` (its
/// total is a kept count, docs/api.md "Totals") and the page starts at the
/// head of the list or at a cursor (`first`), so that it reads its rows and
/// nothing before them; else on the blocking pool, since a filter's count
/// grows with its matches and a deep page skips rows.
///
/// # Errors
/// [`BlockingError`] when the blocking pool is gone.
pub(crate) async fn read_page<R: Send + 'static>(
    store: &Store,
    unfiltered: bool,
    first: bool,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, BlockingError> {
    read_if(store, unfiltered && first, f).await
}
