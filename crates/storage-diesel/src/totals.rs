//! The totals of unfiltered lists: the row counts that the triggers of
//! migrations 000013 and 000014 (jobs) keep in `row_counts`, in the transaction that adds or
//! removes the rows. Reading one is a read of at most 16 rows, whatever
//! the size of the table; a filtered list counts its matching rows along
//! the filter's index instead (docs/api.md, "Totals").

use diesel::prelude::*;

use crate::conn::{AnyConnection, per_backend};
use crate::error::StorageError;
use crate::schema::row_counts;

/// A table whose rows are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    Mentors,
    Evaluations,
    Notifications,
    Runs,
    Jobs,
}

impl Counted {
    /// The table's name, as the triggers record it.
    const fn name(self) -> &'static str {
        match self {
            Self::Mentors => "mentors",
            Self::Evaluations => "evaluations",
            Self::Notifications => "notifications",
            Self::Runs => "runs",
            Self::Jobs => "jobs",
        }
    }
}

/// The total of a list of `table`: the kept count when the list is
/// `unfiltered`, else the matching rows, as `count` counts them.
///
/// # Errors
/// [`StorageError`] when the database fails.
pub(crate) fn list_total(
    conn: &mut AnyConnection,
    table: Counted,
    unfiltered: bool,
    count: impl FnOnce(&mut AnyConnection) -> QueryResult<i64>,
) -> Result<u64, StorageError> {
    if unfiltered {
        kept_total(conn, table)
    } else {
        Ok(u64::try_from(count(conn)?).unwrap_or(0))
    }
}

/// How many rows `table` has now.
fn kept_total(conn: &mut AnyConnection, table: Counted) -> Result<u64, StorageError> {
    let shards: Vec<i64> = per_backend!(conn, |c| row_counts::table
        .filter(row_counts::name.eq(table.name()))
        .select(row_counts::n)
        .load(c))?;
    Ok(u64::try_from(shards.iter().sum::<i64>()).unwrap_or(0))
}
