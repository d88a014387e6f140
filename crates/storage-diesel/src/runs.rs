//! `RunRepository` on diesel: the run log and batch results.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use run_log::{
    BatchResult, BatchWindow, Lease, PlannedBatch, Renewal, Run, RunFilter, RunRepository,
    RunStatus, StoreError, Trigger,
};

mod claim;
mod lease;

use crate::Store;
use crate::conn::{MultiBackend, per_backend, write_tx};
use crate::convert::{from_json_text, from_millis, opt_from_millis, to_json_text, to_millis};
use crate::error::StorageError;
use crate::literal::StatusIsRunning;
use crate::schema::{batch_results, run_batches, runs};
use crate::totals::{Counted, list_total};

/// The statuses of runs that did work and ended ([`RunStatus::did_work`]).
const FINISHED: [&str; 3] = [
    RunStatus::Success.as_str(),
    RunStatus::Failed.as_str(),
    RunStatus::Cancelled.as_str(),
];

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = runs, treat_none_as_null = true)]
pub(crate) struct RunRow {
    pub id: String,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub kind: String,
    pub run_trigger: String,
    pub triggered_by: Option<String>,
    pub reason: Option<String>,
    pub scheduled_for: Option<i64>,
    pub dry_run: bool,
    pub external: bool,
    pub status: String,
    pub invoked_at: i64,
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub users_evaluated: i64,
    pub notifications_dispatched: i64,
    pub result_summary: Option<String>,
    pub error_message: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub lock_key: Option<String>,
    pub planned_batches: Option<i64>,
    pub batch_size: Option<i64>,
    pub lease_epoch: i64,
}

/// Every column but the key, the lock key, the totals (batches add to them
/// while the run runs), and the batch size and plan, which are the run's
/// from its start and its planning pass (`finish_run`).
#[derive(AsChangeset)]
#[diesel(table_name = runs, treat_none_as_null = true)]
struct RunChange {
    job_id: Option<String>,
    job_name: Option<String>,
    kind: String,
    run_trigger: String,
    triggered_by: Option<String>,
    reason: Option<String>,
    scheduled_for: Option<i64>,
    dry_run: bool,
    external: bool,
    status: String,
    invoked_at: i64,
    completed_at: Option<i64>,
    duration_ms: Option<i64>,
    result_summary: Option<String>,
    error_message: Option<String>,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
}

impl From<RunRow> for RunChange {
    fn from(r: RunRow) -> Self {
        Self {
            job_id: r.job_id,
            job_name: r.job_name,
            kind: r.kind,
            run_trigger: r.run_trigger,
            triggered_by: r.triggered_by,
            reason: r.reason,
            scheduled_for: r.scheduled_for,
            dry_run: r.dry_run,
            external: r.external,
            status: r.status,
            invoked_at: r.invoked_at,
            completed_at: r.completed_at,
            duration_ms: r.duration_ms,
            result_summary: r.result_summary,
            error_message: r.error_message,
            lease_owner: r.lease_owner,
            lease_expires_at: r.lease_expires_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = run_batches, treat_none_as_default_value = false)]
struct PlanRow {
    run_id: String,
    batch_index: i64,
    first_user_id: String,
    last_user_id: String,
    user_count: i64,
}

/// Plan rows per multi-row `INSERT` (5 columns: far under both bind limits).
const PLAN_ROWS: usize = 1000;

impl RunRow {
    fn of(r: &Run, lock_key: Option<&str>) -> Self {
        Self {
            id: r.id.clone(),
            job_id: r.job_id.clone(),
            job_name: r.job_name.clone(),
            kind: r.kind.clone(),
            run_trigger: r.trigger.as_str().to_owned(),
            triggered_by: r.triggered_by.clone(),
            reason: r.reason.clone(),
            scheduled_for: r.scheduled_for.map(to_millis),
            dry_run: r.dry_run,
            external: r.external,
            status: r.status.as_str().to_owned(),
            invoked_at: to_millis(r.invoked_at),
            completed_at: r.completed_at.map(to_millis),
            duration_ms: r.duration_ms,
            users_evaluated: r.users_evaluated,
            notifications_dispatched: r.notifications_dispatched,
            result_summary: r.result_summary.as_ref().map(to_json_text),
            error_message: r.error_message.clone(),
            lease_owner: r.lease_owner.clone(),
            lease_expires_at: r.lease_expires_at.map(to_millis),
            lock_key: lock_key.map(str::to_owned),
            planned_batches: r.planned_batches,
            batch_size: r.batch_size,
            lease_epoch: r.lease_epoch,
        }
    }

    fn into_run(self) -> Result<Run, StorageError> {
        Ok(Run {
            trigger: Trigger::parse(&self.run_trigger)
                .ok_or(StorageError::Corrupt("runs.run_trigger"))?,
            status: RunStatus::parse(&self.status)
                .map_err(|_| StorageError::Corrupt("runs.status"))?,
            scheduled_for: opt_from_millis(self.scheduled_for)?,
            invoked_at: from_millis(self.invoked_at)?,
            completed_at: opt_from_millis(self.completed_at)?,
            result_summary: self
                .result_summary
                .as_deref()
                .map(from_json_text)
                .transpose()?,
            lease_expires_at: opt_from_millis(self.lease_expires_at)?,
            id: self.id,
            job_id: self.job_id,
            job_name: self.job_name,
            kind: self.kind,
            triggered_by: self.triggered_by,
            reason: self.reason,
            dry_run: self.dry_run,
            external: self.external,
            duration_ms: self.duration_ms,
            users_evaluated: self.users_evaluated,
            notifications_dispatched: self.notifications_dispatched,
            error_message: self.error_message,
            lease_owner: self.lease_owner,
            planned_batches: self.planned_batches,
            batch_size: self.batch_size,
            lease_epoch: self.lease_epoch,
        })
    }
}

fn filtered(f: &RunFilter) -> runs::BoxedQuery<'_, MultiBackend> {
    let mut q = runs::table.into_boxed();
    if let Some(j) = &f.job_id {
        q = q.filter(runs::job_id.eq(j));
    }
    if let Some(k) = &f.kind {
        q = q.filter(runs::kind.eq(k));
    }
    if let Some(s) = f.status {
        q = q.filter(runs::status.eq(s.as_str()));
    }
    if let Some(t) = f.trigger {
        q = q.filter(runs::run_trigger.eq(t.as_str()));
    }
    q
}

impl RunRepository for Store {
    fn insert_run(&self, run: &Run, lock_key: Option<&str>) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            diesel::insert_into(runs::table)
                .values(&RunRow::of(run, lock_key))
                .execute(conn)?;
            Ok(())
        })
    }

    fn get_run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        self.with_conn(|conn| {
            // On the concrete connection, so that the statement comes from
            // the cache as it is.
            let row = per_backend!(conn, |c| runs::table
                .find(id)
                .select(RunRow::as_select())
                .first::<RunRow>(c)
                .optional())?;
            row.map(RunRow::into_run).transpose()
        })
    }

    fn running_with_lock(&self, lock_key: &str) -> Result<Option<Run>, StoreError> {
        self.with_conn(|conn| {
            // The status as a literal the partial index's predicate matches
            // ([`StatusIsRunning`]), on the concrete connection so that the
            // statement comes from the cache as it is.
            let row = per_backend!(conn, |c| runs::table
                .filter(runs::lock_key.eq(lock_key))
                .filter(StatusIsRunning)
                .select(RunRow::as_select())
                .first::<RunRow>(c)
                .optional())?;
            row.map(RunRow::into_run).transpose()
        })
    }

    fn last_finished_run(&self, job_id: &str) -> Result<Option<Run>, StoreError> {
        self.with_conn(|conn| {
            // One walk back along `runs_job_invoked` that stops at the
            // first run with a result, on the concrete connection so that
            // the statement comes from the cache as it is.
            let row = per_backend!(conn, |c| runs::table
                .filter(runs::job_id.eq(job_id))
                .filter(
                    runs::status
                        .eq(FINISHED[0])
                        .or(runs::status.eq(FINISHED[1]))
                        .or(runs::status.eq(FINISHED[2])),
                )
                .order((runs::invoked_at.desc(), runs::id.desc()))
                .select(RunRow::as_select())
                .first::<RunRow>(c)
                .optional())?;
            row.map(RunRow::into_run).transpose()
        })
    }

    fn list_runs(
        &self,
        filter: &RunFilter,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Run>, u64), StoreError> {
        self.with_conn(|conn| {
            conn.transaction(|c| {
                let total = list_total(c, Counted::Runs, *filter == RunFilter::default(), |c| {
                    filtered(filter).count().get_result(c)
                })?;
                let rows: Vec<RunRow> = filtered(filter)
                    .order((runs::invoked_at.desc(), runs::id.desc()))
                    .limit(i64::from(limit))
                    .offset(i64::try_from(offset).unwrap_or(i64::MAX))
                    .select(RunRow::as_select())
                    .load(c)?;
                let runs = rows
                    .into_iter()
                    .map(RunRow::into_run)
                    .collect::<Result<_, _>>()?;
                Ok((runs, total))
            })
        })
    }

    fn update_run(&self, run: &Run) -> Result<bool, StoreError> {
        self.with_conn(|conn| {
            // The lock key is the run's for life; keep the stored one.
            let lock_key: Option<Option<String>> = runs::table
                .find(&run.id)
                .select(runs::lock_key)
                .first(conn)
                .optional()?;
            let Some(lock_key) = lock_key else {
                return Ok(false);
            };
            let row = RunRow::of(run, lock_key.as_deref());
            // The epoch is the lease's, never a copy's: only a takeover moves it.
            let n = diesel::update(runs::table.find(&run.id))
                .set((
                    RunChange::from(row.clone()),
                    runs::users_evaluated.eq(row.users_evaluated),
                    runs::notifications_dispatched.eq(row.notifications_dispatched),
                    runs::planned_batches.eq(row.planned_batches),
                    runs::batch_size.eq(row.batch_size),
                ))
                .execute(conn)?;
            Ok(n > 0)
        })
    }

    fn delete_run(&self, id: &str) -> Result<bool, StoreError> {
        self.with_conn(|conn| {
            write_tx(conn, |c| -> Result<bool, StorageError> {
                diesel::delete(batch_results::table.filter(batch_results::run_id.eq(id)))
                    .execute(c)?;
                diesel::delete(run_batches::table.filter(run_batches::run_id.eq(id))).execute(c)?;
                Ok(diesel::delete(runs::table.find(id)).execute(c)? > 0)
            })
        })
    }

    fn batch_results(&self, run_id: &str) -> Result<Vec<BatchResult>, StoreError> {
        self.batch_results_in(run_id, BatchWindow::default())
    }

    fn batch_results_in(
        &self,
        run_id: &str,
        window: BatchWindow,
    ) -> Result<Vec<BatchResult>, StoreError> {
        self.with_conn(|conn| {
            // Along the primary key (run_id, batch_index), from the first
            // index past `after`.
            let rows: Vec<(i64, i64, i64, i64)> = per_backend!(conn, |c| batch_results::table
                .filter(batch_results::run_id.eq(run_id))
                .filter(batch_results::batch_index.gt(window.after.unwrap_or(-1)))
                .order(batch_results::batch_index.asc())
                .limit(window.limit.map_or(i64::MAX, i64::from))
                .select((
                    batch_results::batch_index,
                    batch_results::user_count,
                    batch_results::notifications_sent,
                    batch_results::duration_ms,
                ))
                .load(c))?;
            Ok(rows
                .into_iter()
                .map(
                    |(batch_index, user_count, notifications_sent, duration_ms)| BatchResult {
                        batch_index,
                        user_count,
                        notifications_sent,
                        duration_ms,
                    },
                )
                .collect())
        })
    }

    fn prune_runs_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.with_conn(|conn| {
            write_tx(conn, |c| -> Result<u64, StorageError> {
                let old = runs::table
                    .filter(runs::invoked_at.lt(to_millis(cutoff)))
                    .filter(runs::status.ne(RunStatus::Running.as_str()))
                    .select(runs::id);
                diesel::delete(batch_results::table.filter(batch_results::run_id.eq_any(old)))
                    .execute(c)?;
                let old = runs::table
                    .filter(runs::invoked_at.lt(to_millis(cutoff)))
                    .filter(runs::status.ne(RunStatus::Running.as_str()))
                    .select(runs::id);
                diesel::delete(run_batches::table.filter(run_batches::run_id.eq_any(old)))
                    .execute(c)?;
                let n = diesel::delete(
                    runs::table
                        .filter(runs::invoked_at.lt(to_millis(cutoff)))
                        .filter(runs::status.ne(RunStatus::Running.as_str())),
                )
                .execute(c)?;
                Ok(n as u64)
            })
        })
    }

    fn renew_lease(
        &self,
        id: &str,
        owner: &str,
        epoch: i64,
        until: DateTime<Utc>,
    ) -> Result<Option<Renewal>, StoreError> {
        self.with_conn(|c| lease::renew(c, id, owner, epoch, until))
    }

    fn release_lease(
        &self,
        id: &str,
        owner: &str,
        epoch: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with_conn(|c| lease::release(c, id, owner, epoch, now))
    }

    fn expired_leases(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Run>, StoreError> {
        self.with_conn(|conn| {
            // The index `(status, lease_expires_at)` answers this.
            let rows: Vec<RunRow> = runs::table
                .filter(runs::status.eq(RunStatus::Running.as_str()))
                .filter(runs::lease_expires_at.le(to_millis(now)))
                .order((runs::lease_expires_at.asc(), runs::id.asc()))
                .limit(i64::from(limit))
                .select(RunRow::as_select())
                .load(conn)?;
            rows.into_iter().map(RunRow::into_run).collect()
        })
    }

    fn finish_run(&self, run: &Run) -> Result<bool, StoreError> {
        self.with_conn(|conn| {
            let n = diesel::update(
                runs::table
                    .find(&run.id)
                    .filter(runs::status.eq(RunStatus::Running.as_str()))
                    .filter(runs::lease_epoch.eq(run.lease_epoch)),
            )
            .set(&RunChange::from(RunRow::of(run, None)))
            .execute(conn)?;
            Ok(n > 0)
        })
    }

    fn insert_plan(
        &self,
        run_id: &str,
        lease: Option<&Lease>,
        batches: &[PlannedBatch],
    ) -> Result<(), StoreError> {
        let rows: Vec<PlanRow> = batches
            .iter()
            .map(|b| PlanRow {
                run_id: run_id.to_owned(),
                batch_index: b.batch_index,
                first_user_id: b.first_user_id.clone(),
                last_user_id: b.last_user_id.clone(),
                user_count: b.user_count,
            })
            .collect();
        self.with_conn(|conn| {
            write_tx(conn, |c| -> Result<(), StorageError> {
                lease::fence(c, run_id, lease)?;
                for chunk in rows.chunks(PLAN_ROWS) {
                    per_backend!(&mut *c, |c| diesel::insert_into(run_batches::table)
                        .values(chunk)
                        .execute(c))?;
                }
                Ok(())
            })
        })
    }

    fn complete_plan(
        &self,
        run_id: &str,
        lease: Option<&Lease>,
        planned: i64,
    ) -> Result<bool, StoreError> {
        self.with_conn(|conn| {
            let mut q = diesel::update(runs::table.find(run_id)).into_boxed();
            if let Some(l) = lease {
                q = q
                    .filter(runs::lease_owner.eq(&l.owner))
                    .filter(runs::lease_epoch.eq(l.epoch));
            }
            let n = q
                .set(runs::planned_batches.eq(Some(planned)))
                .execute(conn)?;
            Ok(n > 0)
        })
    }

    fn clear_plan(&self, run_id: &str, lease: Option<&Lease>) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            write_tx(conn, |c| -> Result<(), StorageError> {
                lease::fence(c, run_id, lease)?;
                diesel::delete(run_batches::table.filter(run_batches::run_id.eq(run_id)))
                    .execute(c)?;
                Ok(())
            })
        })
    }

    fn unfinished_batches(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PlannedBatch>, StoreError> {
        self.with_conn(|conn| {
            // Plan and results from `after` on only (see `claim::claim`).
            let after = after.unwrap_or(-1);
            let done = batch_results::table
                .filter(batch_results::run_id.eq(run_id))
                .filter(batch_results::batch_index.gt(after))
                .select(batch_results::batch_index);
            let rows: Vec<PlanRow> = run_batches::table
                .filter(run_batches::run_id.eq(run_id))
                .filter(run_batches::batch_index.gt(after))
                .filter(run_batches::batch_index.ne_all(done))
                .order(run_batches::batch_index.asc())
                .limit(i64::from(limit))
                .select(PlanRow::as_select())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|r| PlannedBatch {
                    batch_index: r.batch_index,
                    first_user_id: r.first_user_id,
                    last_user_id: r.last_user_id,
                    user_count: r.user_count,
                })
                .collect())
        })
    }

    fn claim_batches(
        &self,
        run_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        from: i64,
        limit: u32,
    ) -> Result<Vec<PlannedBatch>, StoreError> {
        self.with_conn(|c| claim::claim(c, run_id, owner, (now, until), from, limit))
    }

    fn release_batch_claims(&self, run_id: &str, owner: &str) -> Result<(), StoreError> {
        self.with_conn(|c| claim::release(c, run_id, owner))
    }

    fn next_batch_index(&self, run_id: &str) -> Result<i64, StoreError> {
        self.with_conn(|conn| {
            let max: Option<i64> = batch_results::table
                .filter(batch_results::run_id.eq(run_id))
                .select(diesel::dsl::max(batch_results::batch_index))
                .first(conn)?;
            Ok(max.map_or(0, |m| m + 1))
        })
    }

    fn take_over_lease(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        self.with_conn(|c| lease::take_over(c, id, owner, now, until))
    }
}
