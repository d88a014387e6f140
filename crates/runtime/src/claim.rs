//! Starting runs: a manual trigger of a job, an ad-hoc scheduler
//! invocation, and handing each run the service processes to the run pool.
//!
//! Claiming a run is inserting it. Two unique indexes make that atomic
//! across instances: one running run per lock key, one run per job and
//! scheduled instant. A conflict on the lock is the 409 a caller sees.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use run_log::{EXTERNAL_BATCH_WINDOW, EXTERNAL_OWNER, Run, StoreError, Trigger};
use scheduler_core::{Handler, Job};

use crate::error::RuntimeError;
use crate::params::{DEFAULT_BATCH_SIZE, batch_size_param};
use crate::runtime::Runtime;

/// The lock all non-external scenario-evaluation runs share, whichever job
/// or request started them.
pub const SCENARIO_LOCK: &str = "scenario_evaluation";

/// The lock a job's runs take: its id, or [`SCENARIO_LOCK`].
pub fn lock_key(job: &Job) -> String {
    if job.handler == Handler::ScenarioEvaluation {
        SCENARIO_LOCK.to_owned()
    } else {
        job.id.clone()
    }
}

/// A manual trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerRequest {
    /// Who asked.
    pub triggered_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Compute and record, change nothing.
    pub dry_run: bool,
}

/// An ad-hoc scheduler invocation: a scenario-evaluation run over all
/// active mentors, not started by a job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationRequest {
    /// Who asked.
    pub triggered_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Compute and record, enqueue nothing.
    pub dry_run: bool,
    /// Fed by an orchestrator batch by batch instead of processed here.
    pub external: bool,
    /// Mentors per batch (1 to [`MAX_BATCH_SIZE`](crate::MAX_BATCH_SIZE));
    /// default [`DEFAULT_BATCH_SIZE`].
    pub batch_size: Option<u32>,
}

impl Runtime {
    pub(crate) fn new_run(&self, job: &Job, trigger: Trigger, now: DateTime<Utc>) -> Run {
        let mut run = Run::start(self.next_id("run"), job.handler.as_str(), trigger, now);
        run.job_id = Some(job.id.clone());
        run.job_name = Some(job.name.as_str().to_owned());
        run.lease_owner = Some(self.owner.clone());
        run.lease_expires_at = Some(now + self.lease_ttl);
        if job.handler == Handler::ScenarioEvaluation {
            // An invalid parameter fails the run itself, with its message.
            run.batch_size = batch_size_param(&job.params).ok().map(i64::from);
        }
        run
    }

    /// Starts a manual run of `job` at once: the run is claimed and
    /// returned `running`, and its handler runs on the run pool, at once or
    /// when a thread is free.
    ///
    /// # Errors
    /// [`RuntimeError::LockHeld`] while the job's lock is held.
    pub fn trigger(
        self: &Arc<Self>,
        job: &Job,
        request: TriggerRequest,
    ) -> Result<Run, RuntimeError> {
        let mut run = self.new_run(job, Trigger::Manual, self.now());
        run.triggered_by = request.triggered_by;
        run.reason = request.reason;
        run.dry_run = request.dry_run;
        let key = lock_key(job);
        match self.runs.insert_run(&run, Some(&key)) {
            Ok(()) => {
                self.spawn(Some(job.clone()), run.clone());
                Ok(run)
            }
            Err(StoreError::Conflict("runs.lock")) => {
                let holder = self
                    .runs
                    .running_with_lock(&key)
                    .map_err(RuntimeError::Runs)?;
                Err(RuntimeError::LockHeld {
                    job_id: job.id.clone(),
                    run_id: holder.map(|r| r.id).unwrap_or_default(),
                })
            }
            Err(e) => Err(RuntimeError::Runs(e)),
        }
    }

    /// Starts an ad-hoc scenario-evaluation run over all active mentors (a
    /// scheduler invocation). A run the service processes
    /// takes the lock all of them share and is processed on the run pool;
    /// an external run takes no lock, is not processed here, and waits
    /// [`EXTERNAL_BATCH_WINDOW`] for each batch from its orchestrator.
    ///
    /// # Errors
    /// [`RuntimeError::InvocationRunning`] while another run holds the lock.
    pub fn start_invocation(
        self: &Arc<Self>,
        request: InvocationRequest,
    ) -> Result<Run, RuntimeError> {
        let now = self.now();
        let mut run = Run::start(
            self.next_id("run"),
            Handler::ScenarioEvaluation.as_str(),
            Trigger::Manual,
            now,
        );
        run.triggered_by = request.triggered_by;
        run.reason = request.reason;
        run.dry_run = request.dry_run;
        run.external = request.external;
        if request.external {
            run.lease_owner = Some(EXTERNAL_OWNER.to_owned());
            run.lease_expires_at = Some(now + EXTERNAL_BATCH_WINDOW);
            self.runs
                .insert_run(&run, None)
                .map_err(RuntimeError::Runs)?;
            return Ok(run);
        }
        run.batch_size = Some(i64::from(request.batch_size.unwrap_or(DEFAULT_BATCH_SIZE)));
        run.lease_owner = Some(self.owner.clone());
        run.lease_expires_at = Some(now + self.lease_ttl);
        match self.runs.insert_run(&run, Some(SCENARIO_LOCK)) {
            Ok(()) => {
                self.spawn(None, run.clone());
                Ok(run)
            }
            Err(StoreError::Conflict("runs.lock")) => {
                let holder = self
                    .runs
                    .running_with_lock(SCENARIO_LOCK)
                    .map_err(RuntimeError::Runs)?;
                Err(RuntimeError::InvocationRunning {
                    run_id: holder.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
                    job_id: holder.and_then(|r| r.job_id),
                })
            }
            Err(e) => Err(RuntimeError::Runs(e)),
        }
    }

    /// Processes `run` (of `job`, or an ad-hoc invocation without one) on
    /// the run pool, over the run ports: at once if a thread is free, else
    /// when one is.
    pub(crate) fn spawn(self: &Arc<Self>, job: Option<Job>, run: Run) {
        self.runner().enqueue(job, run);
    }
}
