//! The totals of unfiltered lists: the row counts that the triggers of
//! migrations 000013 and 000014 (jobs) keep in `row_counts`, in the transaction that adds or
//! removes the rows. Reading one is a read of at most 16 rows, whatever
//! the size of the table; a filtered list counts its matching rows along
//! the filter's index instead (docs/api.md, "Totals").

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, ValidGrouping, is_aggregate};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text};

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

/// A list's table whose page carries its total in a scalar subquery
/// ([`KeptTotal`], [`MentorTotal`]): the subqueries' text, written once.
pub(crate) trait PagedTable: 'static {
    /// The kept count of the table, as [`kept_total`] reads it.
    const KEPT_TOTAL: &'static str;
    /// The table's rows of one mentor, counted, up to the bound mentor.
    const MENTOR_TOTAL: &'static str;
}

impl PagedTable for crate::schema::evaluations::table {
    const KEPT_TOTAL: &'static str =
        "(SELECT CAST(SUM(n) AS BIGINT) FROM row_counts WHERE name = 'evaluations')";
    const MENTOR_TOTAL: &'static str =
        "(SELECT COUNT(*) FROM evaluations AS counted WHERE counted.user_id = ";
}

impl PagedTable for crate::schema::notifications::table {
    const KEPT_TOTAL: &'static str =
        "(SELECT CAST(SUM(n) AS BIGINT) FROM row_counts WHERE name = 'notifications')";
    const MENTOR_TOTAL: &'static str =
        "(SELECT COUNT(*) FROM notifications AS counted WHERE counted.user_id = ";
}

/// How many rows the table `T` has now ([`kept_total`]), as a scalar
/// subquery to select beside a page's rows. `SUM` of a `BIGINT` is a
/// `NUMERIC` on PostgreSQL, hence the cast in its text.
///
/// A type of its own rather than a `sql` literal: diesel prepares a
/// literal again at every call, while a query of this type has a static
/// id and comes from the statement cache as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeptTotal<T>(PhantomData<T>);

impl<T: PagedTable> KeptTotal<T> {
    /// The kept count of `T`.
    pub(crate) fn of(_table: T) -> Self {
        Self(PhantomData)
    }
}

/// How many rows of one mentor the table `T` has, as a scalar subquery to
/// select beside a page of that mentor's rows (read along the table's
/// mentor index). As [`KeptTotal`], a type of its own for the statement
/// cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MentorTotal<'a, T> {
    user_id: &'a str,
    table: PhantomData<T>,
}

impl<'a, T: PagedTable> MentorTotal<'a, T> {
    /// The rows of `user_id` in `T`.
    pub(crate) fn of(_table: T, user_id: &'a str) -> Self {
        Self {
            user_id,
            table: PhantomData,
        }
    }
}

/// What [`MentorTotal`]'s statements are cached by: its table.
pub(crate) struct MentorTotalId<T>(PhantomData<T>);

impl<T: PagedTable> QueryId for KeptTotal<T> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<T: PagedTable> QueryId for MentorTotal<'_, T> {
    type QueryId = MentorTotalId<T>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<T: PagedTable> Expression for KeptTotal<T> {
    type SqlType = Nullable<BigInt>;
}

impl<T: PagedTable> Expression for MentorTotal<'_, T> {
    type SqlType = Nullable<BigInt>;
}

impl<T: PagedTable, DB: Backend> QueryFragment<DB> for KeptTotal<T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(T::KEPT_TOTAL);
        Ok(())
    }
}

impl<T, DB> QueryFragment<DB> for MentorTotal<'_, T>
where
    T: PagedTable,
    DB: Backend + HasSqlType<Text>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(T::MENTOR_TOTAL);
        out.push_bind_param::<Text, str>(self.user_id)?;
        out.push_sql(")");
        Ok(())
    }
}

// Both subqueries read their own table, whatever the outer query's.
impl<T: PagedTable, QS> AppearsOnTable<QS> for KeptTotal<T> {}
impl<T: PagedTable, QS> SelectableExpression<QS> for KeptTotal<T> {}
impl<T: PagedTable> ValidGrouping<()> for KeptTotal<T> {
    type IsAggregate = is_aggregate::Never;
}

impl<T: PagedTable, QS> AppearsOnTable<QS> for MentorTotal<'_, T> {}
impl<T: PagedTable, QS> SelectableExpression<QS> for MentorTotal<'_, T> {}
impl<T: PagedTable> ValidGrouping<()> for MentorTotal<'_, T> {
    type IsAggregate = is_aggregate::Never;
}

/// How many rows `table` has now.
fn kept_total(conn: &mut AnyConnection, table: Counted) -> Result<u64, StorageError> {
    let shards: Vec<i64> = per_backend!(conn, |c| row_counts::table
        .filter(row_counts::name.eq(table.name()))
        .select(row_counts::n)
        .load(c))?;
    Ok(u64::try_from(shards.iter().sum::<i64>()).unwrap_or(0))
}
