//! Predicates written into the SQL as literals, in a form diesel's
//! statement cache keeps (`diesel::dsl::sql` is never cached, so a query
//! using it is parsed and planned again at every call).

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;

use crate::schema::runs;

/// `status = 'running'`, as the predicate of the partial index
/// `runs_one_running` states it.
pub(crate) const RUNNING: &str = "runs.status = 'running'";

/// [`RUNNING`] as an expression. Written out, not bound: only a predicate
/// the planner sees when it prepares the statement lets it use the partial
/// index `runs_one_running (lock_key) WHERE status = 'running'` (SQLite is
/// built with SQLITE_ENABLE_QPSG, so it never plans on a bound value).
#[derive(Debug, Clone, Copy, QueryId)]
pub(crate) struct StatusIsRunning;

impl Expression for StatusIsRunning {
    type SqlType = Bool;
}

impl AppearsOnTable<runs::table> for StatusIsRunning {}

impl<GB> ValidGrouping<GB> for StatusIsRunning {
    type IsAggregate = is_aggregate::Never;
}

impl<DB: Backend> QueryFragment<DB> for StatusIsRunning {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(RUNNING);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use run_log::RunStatus;

    use super::RUNNING;

    /// The literal says what the partial index `runs_one_running` says.
    #[test]
    fn the_running_literal_is_the_running_status() {
        assert_eq!(
            RUNNING,
            format!("runs.status = '{}'", RunStatus::Running.as_str())
        );
    }
}
