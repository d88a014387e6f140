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

/// Runs a short read of several reads that belong together ([`read`]) in
/// one snapshot of the database ([`Store::snapshot`]): on SQLite one read
/// transaction instead of one per read.
///
/// # Errors
/// [`BlockingError`] when the blocking pool is gone.
pub(crate) async fn read_together<R: Send + 'static>(
    store: &Store,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, BlockingError> {
    let snapshot = store.clone();
    read(store, move || snapshot.snapshot(f)).await
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

/// Reads a run's detail with the batch results in `window`, in one
/// snapshot ([`Store::snapshot`]): a short read ([`read`]) when the window
/// holds at most [`SHORT_WINDOW`] results, else on the blocking pool.
///
/// # Errors
/// [`BlockingError`] when the blocking pool is gone.
pub(crate) async fn read_detail<R: Send + 'static>(
    store: &Store,
    window: BatchWindow,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, BlockingError> {
    let snapshot = store.clone();
    read_if(
        store,
        window.limit.is_some_and(|l| l <= SHORT_WINDOW),
        move || snapshot.snapshot(f),
    )
    .await
}

/// What a page of a list reads, for [`read_page`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageShape {
    /// No filter: the total is a kept count (docs/api.md, "Totals").
    pub unfiltered: bool,
    /// The page starts at the head of the list or at a cursor, so it
    /// reads its rows and nothing before them.
    pub first: bool,
    /// The filter is one mentor and nothing else (`user_id`): the page,
    /// its total and any depth of it read only that mentor's rows, through
    /// an index led by the mentor, and retention bounds how many rows a
    /// mentor has.
    pub one_mentor: bool,
}

impl PageShape {
    /// Whether the page is a short read: unfiltered from the head or a
    /// cursor, or confined to one mentor's rows. Other filters count all
    /// their matches, which grow with the table, and a deep page skips
    /// rows.
    pub(crate) fn short(self) -> bool {
        (self.unfiltered && self.first) || self.one_mentor
    }
}

/// Reads a page of a list: a short read ([`read`]) when its shape says so
/// ([`PageShape::short`]), else on the blocking pool.
///
/// # Errors
/// [`BlockingError`] when the blocking pool is gone.
pub(crate) async fn read_page<R: Send + 'static>(
    store: &Store,
    shape: PageShape,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, BlockingError> {
    read_if(store, shape.short(), f).await
}

#[cfg(test)]
mod tests {
    use super::PageShape;

    fn shape(unfiltered: bool, first: bool, one_mentor: bool) -> PageShape {
        PageShape {
            unfiltered,
            first,
            one_mentor,
        }
    }

    #[test]
    fn a_page_is_short_from_the_head_of_the_whole_list_or_within_one_mentor() {
        assert!(shape(true, true, false).short());
        assert!(shape(false, true, true).short());
        assert!(
            shape(false, false, true).short(),
            "any depth of one mentor's rows"
        );
        assert!(!shape(true, false, false).short(), "a deep page skips rows");
        assert!(
            !shape(false, true, false).short(),
            "a filter counts its matches"
        );
    }
}
