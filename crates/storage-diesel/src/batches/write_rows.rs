//! The rows a batch writes, borrowed from its `BatchWrite`: written as
//! `rows::Rows` statements (multi-row `INSERT`s through diesel's statement
//! cache), and on PostgreSQL the evaluations and notifications by `COPY`
//! (their `Insertable` derive).

use diesel::prelude::*;

use crate::rows::{Binds, InsertRow, ReturningRow, Values};
use crate::schema::{evaluations, mentor_milestones, notification_keys, notifications};

/// An evaluation row: bound into multi-row `INSERT`s on SQLite
/// ([`InsertRow`]), copied on PostgreSQL (`Insertable`, see `copy_rows` in `batches.rs`).
#[derive(Insertable)]
#[diesel(table_name = evaluations, treat_none_as_default_value = false)]
pub(super) struct EvaluationInsert<'a> {
    pub(super) id: &'a str,
    pub(super) user_id: &'a str,
    pub(super) scenario_type: &'static str,
    pub(super) should_notify: bool,
    pub(super) evaluated_at: i64,
    pub(super) evaluation_metadata: &'a str,
    pub(super) reason: &'a str,
    pub(super) reason_code: &'a str,
    pub(super) run_id: Option<&'a str>,
    pub(super) dry_run: bool,
    pub(super) batch_index: Option<i64>,
}

impl InsertRow for EvaluationInsert<'_> {
    // The four values every evaluation of a batch has in common come first
    // and are bound once per statement (`Values::shared`).
    const HEAD: &'static str = "INSERT INTO evaluations (run_id, evaluated_at, dry_run, batch_index, \
        id, user_id, scenario_type, should_notify, evaluation_metadata, reason, reason_code) VALUES ";
    const TAIL: &'static str = "";
    type Tag = evaluations::table;
    fn bind<'b, DB: Binds>(&'b self, v: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()> {
        v.shared(|out| DB::opt_text(out, &self.run_id))?;
        v.shared(|out| DB::big(out, &self.evaluated_at))?;
        v.shared(|out| DB::boolean(out, &self.dry_run))?;
        v.shared(|out| DB::opt_big(out, &self.batch_index))?;
        DB::text(v.own(), self.id)?;
        DB::text(v.own(), self.user_id)?;
        DB::text(v.own(), self.scenario_type)?;
        DB::boolean(v.own(), &self.should_notify)?;
        DB::text(v.own(), self.evaluation_metadata)?;
        DB::text(v.own(), self.reason)?;
        DB::text(v.own(), self.reason_code)
    }
    fn shares_with(&self, other: &Self) -> bool {
        (
            self.run_id,
            self.evaluated_at,
            self.dry_run,
            self.batch_index,
        ) == (
            other.run_id,
            other.evaluated_at,
            other.dry_run,
            other.batch_index,
        )
    }
}

/// A new notification: `pending`, no attempt yet, due at once.
pub(super) struct NotificationInsert<'a> {
    pub(super) id: &'a str,
    pub(super) user_id: &'a str,
    pub(super) org_id: &'a str,
    pub(super) scenario_type: &'static str,
    pub(super) dedupe_key: &'a str,
    pub(super) payload: &'a str,
    pub(super) created_at: i64,
    pub(super) run_id: Option<&'a str>,
    pub(super) evaluation_id: Option<&'a str>,
}

impl InsertRow for NotificationInsert<'_> {
    // The run and the instant are the batch's (bound once per statement);
    // a new notification is created, updated and due at the same instant.
    const HEAD: &'static str = "INSERT INTO notifications (run_id, created_at, updated_at, \
        next_attempt_at, id, user_id, org_id, scenario_type, dedupe_key, payload, status, attempts, \
        last_error, delivered_at, evaluation_id) VALUES ";
    const TAIL: &'static str = "";
    type Tag = notifications::table;
    fn bind<'b, DB: Binds>(&'b self, v: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()> {
        v.shared(|out| DB::opt_text(out, &self.run_id))?;
        v.shared(|out| DB::big(out, &self.created_at))?;
        v.again(2);
        v.again(2);
        DB::text(v.own(), self.id)?;
        DB::text(v.own(), self.user_id)?;
        DB::text(v.own(), self.org_id)?;
        DB::text(v.own(), self.scenario_type)?;
        DB::text(v.own(), self.dedupe_key)?;
        DB::text(v.own(), self.payload)?;
        v.own().push_sql("'pending', 0, NULL, NULL");
        DB::opt_text(v.own(), &self.evaluation_id)
    }
    fn shares_with(&self, other: &Self) -> bool {
        (self.run_id, self.created_at) == (other.run_id, other.created_at)
    }
}

/// A new notification as PostgreSQL's `COPY` writes it: every column (a
/// `COPY` has no SQL to put the constants of [`NotificationInsert`] in).
#[derive(Insertable)]
#[diesel(table_name = notifications, treat_none_as_default_value = false)]
pub(super) struct NotificationCopy<'a> {
    pub(super) id: &'a str,
    pub(super) user_id: &'a str,
    pub(super) org_id: &'a str,
    pub(super) scenario_type: &'static str,
    pub(super) dedupe_key: &'a str,
    pub(super) payload: &'a str,
    pub(super) status: &'static str,
    pub(super) attempts: i32,
    pub(super) last_error: Option<&'a str>,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) next_attempt_at: Option<i64>,
    pub(super) delivered_at: Option<i64>,
    pub(super) run_id: Option<&'a str>,
    pub(super) evaluation_id: Option<&'a str>,
}

impl<'a> From<&NotificationInsert<'a>> for NotificationCopy<'a> {
    fn from(n: &NotificationInsert<'a>) -> Self {
        Self {
            id: n.id,
            user_id: n.user_id,
            org_id: n.org_id,
            scenario_type: n.scenario_type,
            dedupe_key: n.dedupe_key,
            payload: n.payload,
            status: "pending",
            attempts: 0,
            last_error: None,
            created_at: n.created_at,
            updated_at: n.created_at,
            next_attempt_at: Some(n.created_at),
            delivered_at: None,
            run_id: n.run_id,
            evaluation_id: n.evaluation_id,
        }
    }
}

pub(super) struct KeyInsert<'a> {
    pub(super) dedupe_key: &'a str,
    pub(super) user_id: &'a str,
    pub(super) created_at: i64,
}

impl InsertRow for KeyInsert<'_> {
    const HEAD: &'static str =
        "INSERT INTO notification_keys (created_at, dedupe_key, user_id) VALUES ";
    // RETURNING names exactly the keys this statement inserted: on
    // PostgreSQL even when a concurrent transaction inserts the same key
    // meanwhile, and on SQLite (where the transaction began IMMEDIATE, so
    // no other writer runs) without reading the keys first.
    const TAIL: &'static str = " ON CONFLICT DO NOTHING RETURNING dedupe_key";
    type Tag = notification_keys::table;
    fn bind<'b, DB: Binds>(&'b self, v: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()> {
        v.shared(|out| DB::big(out, &self.created_at))?;
        DB::text(v.own(), self.dedupe_key)?;
        DB::text(v.own(), self.user_id)
    }
    fn shares_with(&self, other: &Self) -> bool {
        self.created_at == other.created_at
    }
}

impl ReturningRow for KeyInsert<'_> {
    type SqlType = diesel::sql_types::Text;
}

pub(super) struct MilestoneInsert<'a> {
    pub(super) user_id: &'a str,
    pub(super) milestone_type: &'static str,
    pub(super) achieved_at: i64,
}

impl InsertRow for MilestoneInsert<'_> {
    const HEAD: &'static str =
        "INSERT INTO mentor_milestones (user_id, milestone_type, achieved_at) VALUES ";
    const TAIL: &'static str = " ON CONFLICT DO NOTHING";
    type Tag = mentor_milestones::table;
    fn bind<'b, DB: Binds>(&'b self, v: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()> {
        DB::text(v.own(), self.user_id)?;
        DB::text(v.own(), self.milestone_type)?;
        DB::big(v.own(), &self.achieved_at)
    }
    fn shares_with(&self, _: &Self) -> bool {
        true
    }
}
