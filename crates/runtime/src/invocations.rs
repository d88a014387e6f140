//! Runs changed from outside: the scheduler invocations an orchestrator
//! feeds batch by batch (`evaluation-batch`), their status changes and
//! deletion, and cancelling any run.

use run_log::{EXTERNAL_BATCH_WINDOW, EXTERNAL_OWNER, Run, RunStatus, RunUpdate, Transition};
use scenario_engine::service::{BatchReport, BatchRequest};
use scheduler_core::Handler;

use crate::error::RuntimeError;
use crate::runtime::Runtime;
use crate::scenario_run::batch_taken;
use crate::telemetry;

/// How often a batch of an external run retries its index when concurrent
/// batches of the same run took it first.
const INDEX_RACE_RETRIES: u32 = 10;

impl Runtime {
    /// A scenario-evaluation run (any other kind of run is not found here).
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`].
    pub fn scenario_run(&self, id: &str) -> Result<Run, RuntimeError> {
        Some(self.run(id)?)
            .filter(|r| r.kind == Handler::ScenarioEvaluation.as_str())
            .ok_or_else(|| RuntimeError::RunNotFound(id.to_owned()))
    }

    /// Evaluates one batch of `user_ids` for an external run, as its next
    /// batch: the run's totals grow, and its one-hour window for the next
    /// batch starts again.
    ///
    /// # Errors
    /// [`RuntimeError::BatchIds`] (empty, more than 500, duplicates);
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::RunFinished`];
    /// [`RuntimeError::NotExternal`] for a run the service processes.
    pub fn evaluation_batch(
        &self,
        run_id: &str,
        user_ids: Vec<String>,
    ) -> Result<BatchReport, RuntimeError> {
        scenario_engine::service::check_batch_ids(&user_ids)?;
        let run = self.scenario_run(run_id)?;
        if run.status.is_finished() {
            return Err(RuntimeError::RunFinished {
                run_id: run.id,
                status: run.status,
            });
        }
        if !run.external {
            return Err(RuntimeError::NotExternal(run.id));
        }
        // Concurrent batches of one run race for the next index: the loser
        // of a race wrote nothing and takes the index after.
        let mut attempts = 0;
        let report = loop {
            let index = self
                .runs
                .next_batch_index(&run.id)
                .map_err(RuntimeError::Runs)?;
            let mut request = BatchRequest::new(run.id.clone(), index, user_ids.clone());
            request.dry_run = run.dry_run;
            match self.batches.evaluate_batch(request) {
                Ok(report) => break report,
                Err(e) if batch_taken(&e) && attempts < INDEX_RACE_RETRIES => attempts += 1,
                Err(e) => return Err(RuntimeError::Batch(e)),
            }
        };
        telemetry::batches_committed(1);
        if report.notifications_sent > 0 {
            self.delivery.wake();
        }
        let until = self.now() + EXTERNAL_BATCH_WINDOW;
        if let Err(e) = self
            .runs
            .renew_lease(&run.id, EXTERNAL_OWNER, run.lease_epoch, until)
        {
            tracing::warn!(run_id = %run.id, error = %e, "extending an external run's window failed");
        }
        Ok(report)
    }

    /// Changes a scenario-evaluation run from outside (`PUT` on a scheduler
    /// invocation) by the rules of [`Run::apply_update`]; a run the service
    /// processes stops at its next batch. Returns the run as stored.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::UpdateRefused`].
    pub fn update_invocation(&self, id: &str, change: &RunUpdate) -> Result<Run, RuntimeError> {
        let mut run = self.scenario_run(id)?;
        if run.apply_update(change, self.now())? == Transition::Unchanged {
            return Ok(run);
        }
        if self.runs.finish_run(&run).map_err(RuntimeError::Runs)? {
            if run.status.is_finished() {
                let job = run.job_id.as_deref().and_then(|j| self.jobs.get(j).ok());
                self.record_on_job(job.as_ref(), &run);
            }
            return self.scenario_run(id);
        }
        // It finished between our read and our write: judge the change
        // against what it became.
        let mut stored = self.scenario_run(id)?;
        stored.apply_update(change, self.now())?;
        Ok(stored)
    }

    /// Deletes a finished scenario-evaluation run with its batch results
    /// and plan; the notifications it enqueued stay.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::RunRunning`].
    pub fn delete_invocation(&self, id: &str) -> Result<String, RuntimeError> {
        let run = self.scenario_run(id)?;
        if !run.status.is_finished() {
            return Err(RuntimeError::RunRunning(run.id));
        }
        if !self.runs.delete_run(&run.id).map_err(RuntimeError::Runs)? {
            return Err(RuntimeError::RunNotFound(run.id));
        }
        Ok(run.id)
    }

    /// Cancels a running run; repeating it on a cancelled run changes nothing.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::IllegalTransition`]
    /// for a run that finished otherwise.
    pub fn cancel_run(&self, id: &str) -> Result<Run, RuntimeError> {
        let mut run = self.run(id)?;
        if run.finish(RunStatus::Cancelled, self.now(), None)? == Transition::Unchanged {
            return Ok(run);
        }
        if self.runs.finish_run(&run).map_err(RuntimeError::Runs)? {
            return Ok(run);
        }
        // It finished between our read and our write: report what it became.
        let stored = self
            .runs
            .get_run(id)
            .map_err(RuntimeError::Runs)?
            .ok_or_else(|| RuntimeError::RunNotFound(id.to_owned()))?;
        Err(run_log::IllegalTransition {
            from: stored.status,
            to: RunStatus::Cancelled,
        }
        .into())
    }
}
