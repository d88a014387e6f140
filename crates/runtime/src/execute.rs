//! Running a handler on a run's thread and recording how it ended: the
//! heartbeat that renews the lease and notices a cancellation, the
//! dispatch to each handler, and the compare-and-set end of the run.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use cert_expiry::{JobError as ExpiryError, RunContext};
use run_log::{Renewal, Run, RunStatus};
use scenario_engine::rules::Rules;
use scheduler_core::{Handler, InvalidParams, Job};
use serde_json::{Map, Value};

use crate::error::ErrorChain;
use crate::params::{HandlerParams, JobParams};
use crate::runtime::Runtime;
use crate::telemetry;

/// Why a handler stopped.
pub(crate) enum Stop {
    /// The run was cancelled (or deleted) meanwhile.
    Cancelled,
    /// The handler failed, with the run's error message.
    Failed(String),
    /// Another process took the run over (its lease epoch moved on): this
    /// one writes nothing more to it (fencing).
    LeaseLost,
    /// The process drains: the run stopped after its last committed write,
    /// and its lease is released for another instance to finish it.
    Drained,
}

impl Stop {
    /// A run of a job whose `params` were stored before
    /// [`check_params`](crate::check_params) refused such values.
    fn invalid(e: InvalidParams) -> Self {
        Self::Failed(e.to_string())
    }
}

impl Runtime {
    /// Runs the handler of `run`, then records the outcome.
    pub(crate) fn execute(&self, job: Option<&Job>, run: Run) {
        // Everything the run logs, on this thread and its reader's, is in
        // this span: its id, job and kind.
        let span = tracing::info_span!(
            "run",
            run_id = %run.id,
            job = job.map(|j| j.name.as_str()),
            kind = run.kind.as_str(),
        );
        let _entered = span.enter();
        tracing::info!(
            dry_run = run.dry_run,
            trigger = run.trigger.as_str(),
            "run started"
        );
        let outcome = self.run_handler(job, &run);
        if let Err(Stop::LeaseLost) = outcome {
            let stored = self.runs.get_run(&run.id).ok().flatten();
            tracing::warn!(
                epoch = run.lease_epoch,
                stored_epoch = stored.as_ref().map(|r| r.lease_epoch),
                stored_owner = stored.as_ref().and_then(|r| r.lease_owner.as_deref()),
                "lease lost: another instance took the run over; this instance stopped it and writes nothing more to it"
            );
            return;
        }
        if let Err(Stop::Drained) = outcome {
            self.release(&run);
            return;
        }
        let finished = self.finish(job, run, outcome);
        telemetry::run_ended(&finished);
        // Whatever the handler enqueued (expiry reminders, lift notices) goes out now.
        self.delivery.wake();
        tracing::info!(
            status = finished.status.as_str(),
            duration_ms = finished.duration_ms,
            users_evaluated = finished.users_evaluated,
            notifications_dispatched = finished.notifications_dispatched,
            error = finished.error_message.as_deref(),
            "run finished"
        );
    }

    fn run_handler(&self, job: Option<&Job>, run: &Run) -> Result<Value, Stop> {
        let no_params = Map::new();
        let params = job.map_or(&no_params, |j| &j.params);
        let handler = Handler::parse(&run.kind)
            .map_err(|_| Stop::Failed(format!("unknown handler `{}`", run.kind)))?;
        // The heartbeat, asked between pages and batches, tells the handler
        // when its run was cancelled (or deleted) meanwhile. It renews the
        // lease every third of its length (10 s of the default 30 s), not at
        // every call: on SQLite a renewal is a write transaction of its own.
        // In between, a plain read of the status and the lease is enough.
        // A lease another process took over (its epoch moved on) stops the
        // run as a cancellation does, and is told apart afterwards.
        // Shared by the threads that commit a run's batches at once
        // (`scenario_run.rs`), so kept in a mutex and flags.
        let renewed = Mutex::new(run.invoked_at);
        let lost = AtomicBool::new(false);
        let drained = AtomicBool::new(false);
        let cancelled = || {
            // A draining process stops here, between writes.
            if self.is_draining() {
                drained.store(true, Ordering::Relaxed);
                return true;
            }
            let now = self.now();
            let due = renewed
                .lock()
                .map(|mut last| {
                    let due = now - *last >= self.lease_ttl / 3;
                    if due {
                        *last = now;
                    }
                    due
                })
                .unwrap_or(true);
            let renewal = if due {
                self.runs
                    .renew_lease(&run.id, &self.owner, run.lease_epoch, now + self.lease_ttl)
            } else {
                self.runs.get_run(&run.id).map(|r| {
                    r.map(|r| Renewal {
                        held: r.lease_epoch == run.lease_epoch
                            && r.lease_owner.as_deref() == Some(self.owner.as_str()),
                        status: r.status,
                    })
                })
            };
            match renewal {
                Ok(Some(Renewal {
                    status: RunStatus::Running,
                    held: true,
                })) => false,
                Ok(Some(Renewal {
                    status: RunStatus::Running,
                    held: false,
                })) => {
                    lost.store(true, Ordering::Relaxed);
                    true
                }
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(run_id = %run.id, error = %e, "lease renewal failed");
                    false
                }
            }
        };
        let report_error = |user_id: &str, e: &dyn std::error::Error| {
            tracing::warn!(run_id = %run.id, user_id, error = %e, "mentor failed in a certification job");
        };
        let ctx = RunContext {
            run_id: &run.id,
            dry_run: run.dry_run,
            now: run.invoked_at,
            cancelled: &cancelled,
            report_error: &report_error,
        };
        let expiry = |r: Result<Value, ExpiryError>| {
            r.map_err(|e| match e {
                ExpiryError::Cancelled => Stop::Cancelled,
                ExpiryError::Store(e) => Stop::Failed(format!("reading mentors failed: {e}")),
            })
        };
        let JobParams { zone, handler } =
            JobParams::read(handler, params, self.retention_days).map_err(Stop::invalid)?;
        let jobs = match zone {
            Some(timezone) => self.expiry.with_rules(Rules {
                timezone,
                ..*self.expiry.rules()
            }),
            None => self.expiry.clone(),
        };
        let outcome = match handler {
            HandlerParams::ExpiryCheck { lead_time_days } => {
                expiry(jobs.expiry_check(&ctx, lead_time_days).map(|s| s.to_json()))
            }
            HandlerParams::AutoLift => expiry(jobs.auto_lift(&ctx).map(|s| s.to_json())),
            HandlerParams::WeeklyReport { days } => expiry(
                jobs.weekly_report(&ctx, days, zone.unwrap_or(self.timezone))
                    .map(|r| r.to_json()),
            ),
            HandlerParams::Retention { days } => self.retention(days, run, &cancelled),
            HandlerParams::ScenarioEvaluation { batch_size } => {
                self.scenario_evaluation(batch_size, zone, run, &cancelled)
            }
        };
        if lost.load(Ordering::Relaxed) {
            return Err(Stop::LeaseLost);
        }
        match outcome {
            Err(Stop::Cancelled) if drained.load(Ordering::Relaxed) => Err(Stop::Drained),
            outcome => outcome,
        }
    }

    /// Records a run's end; a run cancelled meanwhile keeps its cancellation.
    /// The job's `last_run_*` is written first, so that whoever sees the run
    /// finished also sees it on its job.
    pub(crate) fn finish(
        &self,
        job: Option<&Job>,
        mut run: Run,
        outcome: Result<Value, Stop>,
    ) -> Run {
        let now = self.now();
        let (status, error) = match outcome {
            Ok(summary) => {
                run.result_summary = Some(summary);
                (RunStatus::Success, None)
            }
            Err(Stop::Cancelled) => (RunStatus::Cancelled, None),
            Err(Stop::Failed(message)) => (RunStatus::Failed, Some(message)),
            // Not this process's run any more, or one it hands over:
            // nothing to write.
            Err(Stop::LeaseLost | Stop::Drained) => return run,
        };
        // Batches add to the run's totals as they commit: take the stored
        // totals, not this copy's, so the end does not undo them.
        if let Ok(Some(stored)) = self.runs.get_run(&run.id) {
            run.users_evaluated = stored.users_evaluated;
            run.notifications_dispatched = stored.notifications_dispatched;
        }
        if run.finish(status, now, error).is_err() {
            return run;
        }
        self.record_on_job(job, &run);
        match self.runs.finish_run(&run) {
            Ok(true) => run,
            Ok(false) => {
                // Cancelled (or failed as abandoned) meanwhile: the stored
                // outcome stands, on the job too.
                let stored = self.runs.get_run(&run.id).ok().flatten().unwrap_or(run);
                self.record_on_job(job, &stored);
                stored
            }
            Err(e) => {
                tracing::error!(run_id = %run.id, error = %e, "could not record the end of a run");
                run
            }
        }
    }

    pub(crate) fn record_on_job(&self, job: Option<&Job>, run: &Run) {
        let Some(job) = job else { return };
        if let Err(e) = self
            .jobs
            .record_run(&job.id, run.invoked_at, run.status.as_str())
        {
            tracing::warn!(job_id = %job.id, error = %ErrorChain(&e), "could not record the run on its job");
        }
    }
}
