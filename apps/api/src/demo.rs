//! Demo data (docs/operations.md, "Loading data"): `mentor-scheduler demo-data
//! --mentors N` and `serve --demo`. Both insert mentors of the one generator,
//! `scenario_engine::adapters::demo_mentors` (`usr_demo_0000001` onwards, five
//! organisations, a mix that makes the first run fire real notifications),
//! through `Store::bulk_insert_mentors`: one transaction of multi-row inserts,
//! generated lazily, so memory stays flat whatever `N` is.

use chrono::{DateTime, Utc};
use scenario_engine::adapters::{DEMO_ORGS, MAX_DEMO_MENTORS, demo_mentors, demo_user_id};
use scenario_engine::service::{MentorRepository, StoreError};
use storage_diesel::Store;

/// Mentors `serve --demo` seeds: 100 in each of the five organisations.
pub const DEMO_SEED_MENTORS: u64 = 500;

/// Why demo data was not inserted; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// `--mentors` outside 1-9,999,999 (ids have seven digits).
    #[error("--mentors must be between 1 and {max}, not {given}")]
    Count {
        /// What was asked for.
        given: u64,
        /// The most there can be.
        max: u64,
    },
    /// Some of the ids to insert exist already.
    #[error(
        "the database already has a mentor with a demo id (`{taken}`); demo-data inserts `{first}` to `{last}` only when none of them exists, so nothing was inserted: erase those mentors, insert fewer, or use another database"
    )]
    IdsTaken {
        /// One of the ids that exist.
        taken: String,
        /// The first id to insert.
        first: String,
        /// The last id to insert.
        last: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Inserts demo mentors `1..=count` as of `now`, in one transaction:
/// refused, writing nothing, when any of their ids exists (other mentors
/// do not matter). Returns how many were inserted.
///
/// # Errors
/// [`DemoError::Count`], [`DemoError::IdsTaken`], [`DemoError::Store`].
pub fn insert_demo_mentors(
    store: &Store,
    count: u64,
    now: DateTime<Utc>,
) -> Result<u64, DemoError> {
    if !(1..=MAX_DEMO_MENTORS).contains(&count) {
        return Err(DemoError::Count {
            given: count,
            max: MAX_DEMO_MENTORS,
        });
    }
    let (first, last) = (demo_user_id(1), demo_user_id(count));
    // The unique key decides, inside the insert's one transaction: no
    // check-then-insert race. The lookup only names a taken id.
    match store.bulk_insert_mentors(demo_mentors(count, now)) {
        Err(StoreError::Conflict("mentors.user_id")) => {
            let taken = first_taken(store, count)?.unwrap_or_else(|| first.clone());
            Err(DemoError::IdsTaken { taken, first, last })
        }
        other => Ok(other?),
    }
}

/// The first demo id in `1..=count` that a mentor has, if any: ids are
/// seven digits, so they sort in number order and a keyset page from just
/// before `usr_demo_0000001` finds it.
fn first_taken(store: &Store, count: u64) -> Result<Option<String>, StoreError> {
    let last = demo_user_id(count);
    let mut after = demo_user_id(0);
    loop {
        let page = store.mentors_after(Some(&after), None, 1000)?;
        let Some(end) = page.last().map(|r| r.mentor.user_id.clone()) else {
            return Ok(None);
        };
        for r in page {
            let id = r.mentor.user_id;
            if id > last {
                return Ok(None);
            }
            let number = id.strip_prefix("usr_demo_").filter(|d| d.len() == 7);
            if number
                .and_then(|d| d.parse::<u64>().ok())
                .is_some_and(|n| (1..=count).contains(&n))
            {
                return Ok(Some(id));
            }
        }
        after = end;
    }
}

/// `serve --demo`: seeds [`DEMO_SEED_MENTORS`] demo mentors into an empty
/// database and returns `true`; a database with any mentor is left alone
/// (`false`). Two instances seeding the same empty database at once: one
/// seeds, the other finds the ids taken and leaves it alone.
///
/// # Errors
/// [`DemoError::Store`].
pub fn seed_if_empty(store: &Store, now: DateTime<Utc>) -> Result<bool, DemoError> {
    if !store.mentors_after(None, None, 1)?.is_empty() {
        return Ok(false);
    }
    match insert_demo_mentors(store, DEMO_SEED_MENTORS, now) {
        Ok(_) => Ok(true),
        Err(DemoError::IdsTaken { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The organisations demo mentors belong to, for messages.
pub fn organisations() -> String {
    DEMO_ORGS.join(", ")
}
