//! The scheduler: [`scheduler_loop`] sleeps until the next due job (or a
//! change to the jobs), and each [`Runtime::tick`] keeps the leases of the
//! runs waiting for a thread, takes over lapsed runs, fires what is due by
//! the misfire plan, and says when to wake next.
//!
//! Misfires: after a downtime, the latest missed instant within the job's
//! deadline fires once, and older misses become one `missed` run with a
//! count (`scheduler_core::plan_firing` decides). A firing while the job's
//! lock is held is a `skipped` run; consecutive skips during one holder's
//! run are one `skipped` run with a count.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use run_log::{Run, RunFilter, RunStatus, StoreError, Trigger};
use scheduler_core::{Job, plan_firing};
use serde_json::json;

use crate::claim::lock_key;
use crate::runtime::Runtime;
use crate::telemetry;

/// The longest the scheduler loop sleeps: an idle service wakes once a
/// minute (other instances may change jobs without waking this one).
const IDLE_WAKE: Duration = Duration::from_secs(60);

/// The longest the scheduler loop sleeps between looks for lapsed or
/// released leases (a third of the lease when that is shorter): a run a
/// draining instance released is taken over within this, and a dead
/// instance's within its lease and this.
const TAKEOVER_POLL: Duration = Duration::from_secs(2);

/// How many due jobs one tick fires; the rest are due at the next tick.
const DUE_PER_TICK: usize = 100;

/// The scheduler loop: sleeps until the next due job (or a change to the
/// jobs), fires what is due on the blocking pool, and repeats.
pub async fn scheduler_loop(runtime: Arc<Runtime>) {
    // Ticks go through the run ports, like the runs they fire.
    let runtime = runtime.runner();
    loop {
        // A draining process fires nothing more.
        if runtime.is_draining() {
            tracing::info!("draining: the scheduler loop stopped");
            return;
        }
        let r = Arc::clone(&runtime);
        let next = match tokio::task::spawn_blocking(move || r.tick()).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, "scheduler tick panicked");
                None
            }
        };
        runtime.sleep_until(next).await;
    }
}

impl Runtime {
    /// One pass of the scheduler: renews the leases of this instance's
    /// runs that wait for a thread, takes over or fails runs whose lease
    /// expired, fires due jobs, starts the built-in retention when it is
    /// due, and returns when the next job is due.
    pub fn tick(self: &Arc<Self>) -> Option<DateTime<Utc>> {
        if let Some(runner) = &self.runner {
            return runner.tick();
        }
        let now = self.now();
        self.renew_waiting_leases();
        self.reap_expired_leases(now);
        self.help_running_run();
        match self.jobs.repo().due(now, DUE_PER_TICK) {
            Ok(due) => due.into_iter().for_each(|job| self.fire(job, now)),
            Err(e) => tracing::error!(error = %e, "reading due jobs failed"),
        }
        self.built_in_retention(now);
        self.jobs.repo().next_wake().unwrap_or_else(|e| {
            tracing::error!(error = %e, "reading the next wake-up failed");
            Some(now + TimeDelta::seconds(5))
        })
    }

    /// Fires one due job by the misfire plan: the latest missed instant runs
    /// once if within the deadline, older ones become one `missed` run; a
    /// held lock makes a `skipped` run. Then `next_run_at` moves on.
    fn fire(self: &Arc<Self>, job: Job, now: DateTime<Utc>) {
        let Some(plan) = plan_firing(&job, now) else {
            return;
        };
        if let Some(missed) = &plan.missed {
            let mut run = self.new_run(&job, Trigger::Schedule, now);
            run.scheduled_for = Some(missed.last);
            run.result_summary = Some(json!({
                "count": missed.count,
                "first": scenario_engine::rules::format_instant(missed.first),
                "last": scenario_engine::rules::format_instant(missed.last),
                "capped": missed.capped,
            }));
            self.record_finished(run, RunStatus::Missed, now);
        }
        if let Some(at) = plan.fire_at {
            let mut run = self.new_run(&job, Trigger::Schedule, now);
            run.scheduled_for = Some(at);
            let key = lock_key(&job);
            match self.runs.insert_run(&run, Some(&key)) {
                Ok(()) => {
                    telemetry::firing_claimed(now - at);
                    self.spawn(Some(job.clone()), run);
                }
                // Another instance claimed this instant.
                Err(StoreError::Conflict("runs.job_instant")) => {}
                Err(StoreError::Conflict("runs.lock")) => self.record_skip(&job, &key, at, now),
                Err(e) => tracing::error!(job_id = %job.id, error = %e, "claiming a firing failed"),
            }
        }
        // Move next_run_at on, unless the job changed meanwhile (an update
        // already recomputed it): compare-and-set on the value we planned from.
        if let Err(e) = self
            .jobs
            .repo()
            .set_next_run(&job.id, job.next_run_at, plan.next_run_at)
        {
            tracing::error!(job_id = %job.id, error = %e, "advancing next_run_at failed");
        }
    }

    fn record_finished(&self, mut run: Run, status: RunStatus, now: DateTime<Utc>) {
        run.status = status;
        run.completed_at = Some(now);
        run.duration_ms = Some(0);
        run.lease_owner = None;
        run.lease_expires_at = None;
        match self.runs.insert_run(&run, None) {
            Ok(()) => telemetry::run_ended(&run),
            // Another instance recorded it.
            Err(StoreError::Conflict("runs.job_instant")) => {}
            Err(e) => {
                tracing::error!(run_id = %run.id, error = %e, "recording a {} run failed", status.as_str())
            }
        }
    }

    /// A scheduled firing while the lock is held: consecutive skips during
    /// one holder's run are one `skipped` run with a count.
    fn record_skip(&self, job: &Job, key: &str, at: DateTime<Utc>, now: DateTime<Utc>) {
        let holder = self.runs.running_with_lock(key).ok().flatten();
        let filter = RunFilter {
            job_id: Some(job.id.clone()),
            status: Some(RunStatus::Skipped),
            ..RunFilter::default()
        };
        let latest = self
            .runs
            .list_runs(&filter, 0, 1)
            .ok()
            .and_then(|(runs, _)| runs.into_iter().next());
        let holder_id = holder.as_ref().map(|h| h.id.clone());
        if let (Some(mut skipped), Some(h)) = (latest, holder.as_ref())
            && skipped.invoked_at >= h.invoked_at
        {
            let summary = skipped.result_summary.get_or_insert_with(|| json!({}));
            let count = summary["count"].as_u64().unwrap_or(1) + 1;
            summary["count"] = json!(count);
            summary["last"] = json!(scenario_engine::rules::format_instant(at));
            if let Err(e) = self.runs.update_run(&skipped) {
                tracing::error!(run_id = %skipped.id, error = %e, "counting a skipped firing failed");
            }
            return;
        }
        let mut run = self.new_run(job, Trigger::Schedule, now);
        run.scheduled_for = Some(at);
        run.result_summary = Some(json!({
            "count": 1,
            "first": scenario_engine::rules::format_instant(at),
            "last": scenario_engine::rules::format_instant(at),
            "running_run_id": holder_id,
        }));
        self.record_finished(run, RunStatus::Skipped, now);
    }

    /// Waits for the next due job or a change, whichever comes first, and
    /// never longer than a heartbeat (a third of the lease) or
    /// [`TAKEOVER_POLL`]: the reaper in each tick then takes over a dead
    /// instance's runs within the lease and one heartbeat of its last
    /// renewal, and a draining instance's released runs within the poll.
    async fn sleep_until(&self, next: Option<DateTime<Utc>>) {
        let now = self.now();
        let heartbeat = (self.lease_ttl / 3).to_std().unwrap_or(IDLE_WAKE);
        let wait = next
            .map(|t| (t - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(IDLE_WAKE)
            .min(IDLE_WAKE)
            .min(heartbeat)
            .min(TAKEOVER_POLL);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = self.wake.notified() => {}
        }
    }
}
