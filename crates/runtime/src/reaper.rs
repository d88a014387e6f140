//! Lease takeover: a running run whose lease lapsed lost its process (or,
//! for an external run, its orchestrator went quiet). Whoever claims the
//! lapsed lease first, by a compare-and-set across instances, deals with it:
//! a batched scenario-evaluation run resumes at its first unfinished batch;
//! any other run is failed with `abandoned: ...`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use run_log::{RunFilter, RunStatus};
use scheduler_core::Handler;

use crate::runtime::Runtime;

/// How many running runs one pass looks at.
const RUNNING_PER_PASS: u32 = 100;

impl Runtime {
    /// Running runs whose lease lapsed: their process died (or, for an
    /// external run, no batch came in time). Whoever claims the lapsed
    /// lease first (compare-and-set, across instances) deals with the run:
    /// a batched scenario-evaluation run is resumed here at its first
    /// unfinished batch; any other run is failed with `abandoned: ...`.
    pub(crate) fn reap_expired_leases(self: &Arc<Self>, now: DateTime<Utc>) {
        let filter = RunFilter {
            status: Some(RunStatus::Running),
            ..RunFilter::default()
        };
        let Ok((running, _)) = self.runs.list_runs(&filter, 0, RUNNING_PER_PASS) else {
            return;
        };
        for mut run in running.into_iter().filter(|r| r.lease_expired(now)) {
            let until = now + self.lease_ttl;
            match self.runs.take_over_lease(&run.id, &self.owner, now, until) {
                Ok(Some(epoch)) => run.lease_epoch = epoch,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(run_id = %run.id, error = %e, "claiming an abandoned run failed");
                    continue;
                }
            }
            run.lease_owner = Some(self.owner.clone());
            run.lease_expires_at = Some(until);
            if run.kind == Handler::ScenarioEvaluation.as_str() && !run.external {
                tracing::warn!(run_id = %run.id, "lease expired: resuming the run at its first unfinished batch");
                let job = run.job_id.as_deref().and_then(|id| self.jobs.get(id).ok());
                self.spawn(job, run);
                continue;
            }
            let message = run.abandoned_message();
            if run
                .finish(RunStatus::Failed, now, Some(message.to_owned()))
                .is_err()
            {
                continue;
            }
            match self.runs.finish_run(&run) {
                Ok(true) => {
                    tracing::warn!(run_id = %run.id, "run {message}");
                    if let Some(job_id) = &run.job_id {
                        let _ = self.jobs.record_run(
                            job_id,
                            run.invoked_at,
                            RunStatus::Failed.as_str(),
                        );
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(run_id = %run.id, error = %e, "failing an abandoned run failed")
                }
            }
        }
    }
}
