//! Retention: what the `run_log_retention` handler prunes, in bounded
//! chunks, and the built-in daily pass that runs it when no enabled job
//! does (docs/runs.md, "Retention").
//!
//! Every table that grows with time is pruned: finished runs (with their
//! batch results and plans), evaluations, delivered and cancelled
//! notifications, activity events, and idempotency keys past their window.
//! The large tables go in chunks of
//! [`RuntimeConfig::retention_chunk`](crate::RuntimeConfig::retention_chunk)
//! rows, one transaction each, so that SQLite's other writers wait for one
//! chunk at most, never for the whole pass; the heartbeat between chunks
//! keeps the run's lease and notices a cancellation. Dedupe keys, pending
//! and failed notifications, mentors and their milestones stay.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use run_log::{IDEMPOTENCY_WINDOW, Run, RunFilter, StoreError, Trigger};
use scheduler_core::Handler;
use serde_json::{Value, json};

use crate::execute::Stop;
use crate::runtime::Runtime;
use crate::telemetry;

/// The lock of the built-in retention pass: one at a time, across instances.
pub const RETENTION_LOCK: &str = "run_log_retention";

/// How long after the last retention run (of a job, or built in) the
/// built-in pass runs again, when no enabled job prunes.
const BUILT_IN_EVERY: TimeDelta = TimeDelta::days(1);

/// How often the scheduler loop looks whether the built-in pass is due:
/// two indexed reads, not at every tick of a per-second job.
const BUILT_IN_CHECK_EVERY: TimeDelta = TimeDelta::minutes(10);

impl Runtime {
    /// Prunes everything older than the retention period (see the module
    /// docs). A dry run prunes nothing and reports zeros. Returns the run's
    /// result summary.
    pub(crate) fn retention(
        &self,
        days: i64,
        run: &Run,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Value, Stop> {
        let cutoff = run_log::retention_cutoff(run.invoked_at, days);
        // A delivered notification still counts for the cooldown: never
        // prune one the cooldown may yet read.
        let cooldown = TimeDelta::days(i64::from(self.batches.rules().cooldown_days));
        let notifications_cutoff = cutoff.min(run.invoked_at - cooldown);
        let mut pruned = Pruned::default();
        if !run.dry_run {
            self.prune(cutoff, notifications_cutoff, run, cancelled, &mut pruned)?;
            for (what, rows) in [
                ("runs", pruned.runs),
                ("evaluations", pruned.evaluations),
                ("notifications", pruned.notifications),
                ("activity_events", pruned.activity_events),
                ("idempotency_keys", pruned.idempotency_keys),
            ] {
                telemetry::pruned(what, rows);
            }
        }
        Ok(json!({
            "retention_days": days,
            "cutoff": scenario_engine::rules::format_instant(cutoff),
            "notifications_cutoff": scenario_engine::rules::format_instant(notifications_cutoff),
            "runs_pruned": pruned.runs,
            "evaluations_pruned": pruned.evaluations,
            "notifications_pruned": pruned.notifications,
            "activity_events_pruned": pruned.activity_events,
            "idempotency_keys_pruned": pruned.idempotency_keys,
            "dry_run": run.dry_run,
        }))
    }

    fn prune(
        &self,
        cutoff: DateTime<Utc>,
        notifications_cutoff: DateTime<Utc>,
        run: &Run,
        cancelled: &dyn Fn() -> bool,
        pruned: &mut Pruned,
    ) -> Result<(), Stop> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            Stop::Failed(format!("pruning {what} failed: {e}"))
        };
        pruned.runs = self
            .runs
            .prune_runs_before(cutoff)
            .map_err(|e| failed("runs", &e))?;
        pruned.notifications = self.in_chunks(cancelled, |limit| {
            self.outbox
                .prune_settled_before(notifications_cutoff, limit)
                .map_err(|e| failed("notifications", &e))
        })?;
        pruned.evaluations = self.in_chunks(cancelled, |limit| {
            self.evaluation_log
                .prune_evaluations_before(cutoff, limit)
                .map_err(|e| failed("evaluations", &e))
        })?;
        pruned.activity_events = self.in_chunks(cancelled, |limit| {
            self.mentor_log
                .prune_activity_events_before(cutoff, limit)
                .map_err(|e| failed("activity events", &e))
        })?;
        // Idempotency keys live for their window only, whatever the retention.
        pruned.idempotency_keys = self
            .idempotency
            .prune_keys_before(run.invoked_at - IDEMPOTENCY_WINDOW)
            .map_err(|e| failed("idempotency keys", &e))?;
        Ok(())
    }

    /// Calls `chunk` with the chunk size until it deletes fewer rows than
    /// that, asking the heartbeat before each; returns the rows deleted.
    fn in_chunks(
        &self,
        cancelled: &dyn Fn() -> bool,
        chunk: impl Fn(u32) -> Result<u64, Stop>,
    ) -> Result<u64, Stop> {
        let limit = self.retention_chunk.max(1);
        let mut total = 0;
        loop {
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            let n = chunk(limit)?;
            total += n;
            if n < u64::from(limit) {
                return Ok(total);
            }
        }
    }

    /// The built-in retention pass: when no enabled job runs the retention
    /// handler and no retention run started in the last day, starts one,
    /// without a job (docs/runs.md, "Retention"). Looked at by
    /// [`tick`](Runtime::tick) every ten minutes at most.
    pub(crate) fn built_in_retention(self: &Arc<Self>, now: DateTime<Utc>) {
        if !self.built_in_retention {
            return;
        }
        {
            let mut next = self
                .retention_check
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if next.is_some_and(|at| now < at) {
                return;
            }
            *next = Some(now + BUILT_IN_CHECK_EVERY);
        }
        match self.built_in_retention_due(now) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!(error = %e, "looking for a retention job failed");
                return;
            }
        }
        let mut run = Run::start(
            self.next_id("run"),
            Handler::RunLogRetention.as_str(),
            Trigger::Schedule,
            now,
        );
        run.reason = Some("built-in daily retention: no enabled run_log_retention job".to_owned());
        run.lease_owner = Some(self.owner.clone());
        run.lease_expires_at = Some(now + self.lease_ttl);
        match self.runs.insert_run(&run, Some(RETENTION_LOCK)) {
            Ok(()) => self.spawn(None, run),
            // Another instance started it.
            Err(StoreError::Conflict(_)) => {}
            Err(e) => tracing::error!(error = %e, "starting the built-in retention failed"),
        }
    }

    /// Whether the built-in pass is due: no enabled retention job, and no
    /// retention run started in the last day.
    fn built_in_retention_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<bool, Box<dyn std::error::Error>> {
        let (jobs, _) = self.jobs.list(1, 100, Some(Handler::RunLogRetention))?;
        if jobs.iter().any(|j| j.enabled) {
            return Ok(false);
        }
        let filter = RunFilter {
            kind: Some(Handler::RunLogRetention.as_str().to_owned()),
            ..RunFilter::default()
        };
        let (latest, _) = self.runs.list_runs(&filter, 0, 1)?;
        Ok(latest
            .first()
            .is_none_or(|r| now - r.invoked_at >= BUILT_IN_EVERY))
    }
}

/// Rows pruned, per table.
#[derive(Debug, Default)]
struct Pruned {
    runs: u64,
    evaluations: u64,
    notifications: u64,
    activity_events: u64,
    idempotency_keys: u64,
}
