//! Lease takeover: a running run whose lease lapsed lost its process (or,
//! for an external run, its orchestrator went quiet). Whoever claims the
//! lapsed lease first, by a compare-and-set across instances that moves
//! the lease epoch up, deals with it: a run the service processes is run
//! again here (a scenario-evaluation run resumes at its first unfinished
//! batch; any other handler runs again from the start, its writes
//! idempotent through the dedupe keys); an external run is failed with
//! `abandoned: no batch received`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use run_log::RunStatus;

use crate::runtime::Runtime;

/// Lapsed runs read per page; pages are read until none is left.
const LAPSED_PER_PAGE: u32 = 100;

/// The most pages one pass reads: a bound on a pass whose takeovers keep
/// failing (a database that refuses writes), never reached otherwise.
const PAGES_PER_PASS: usize = 1000;

impl Runtime {
    /// Takes over every running run whose lease lapsed at `now`, page by
    /// page off the index of leases, until none is left (see the module
    /// docs for what happens to each).
    pub(crate) fn reap_expired_leases(self: &Arc<Self>, now: DateTime<Utc>) {
        for _ in 0..PAGES_PER_PASS {
            let lapsed = match self.runs.expired_leases(now, LAPSED_PER_PAGE) {
                Ok(lapsed) => lapsed,
                Err(e) => {
                    tracing::error!(error = %e, "reading the lapsed leases failed");
                    return;
                }
            };
            let full = lapsed.len() == LAPSED_PER_PAGE as usize;
            let mut taken = 0;
            for run in lapsed {
                taken += usize::from(self.take_over(run, now));
            }
            // A takeover moves the lease past `now`, so the next page holds
            // the next lapsed runs; a page none of which could be taken
            // would come back the same.
            if !full || taken == 0 {
                return;
            }
        }
    }

    /// Claims one lapsed run and deals with it; whether this instance got it.
    fn take_over(self: &Arc<Self>, mut run: run_log::Run, now: DateTime<Utc>) -> bool {
        let until = now + self.lease_ttl;
        let previous = run.lease_owner.take();
        match self.runs.take_over_lease(&run.id, &self.owner, now, until) {
            Ok(Some(epoch)) => run.lease_epoch = epoch,
            Ok(None) => return false,
            Err(e) => {
                tracing::error!(run_id = %run.id, error = %e, "claiming an abandoned run failed");
                return false;
            }
        }
        run.lease_owner = Some(self.owner.clone());
        run.lease_expires_at = Some(until);
        if !run.external {
            tracing::warn!(
                run_id = %run.id,
                kind = run.kind.as_str(),
                previous_owner = previous.as_deref(),
                epoch = run.lease_epoch,
                "lease expired: taking the run over and running it here"
            );
            let job = run.job_id.as_deref().and_then(|id| self.jobs.get(id).ok());
            self.spawn(job, run);
            return true;
        }
        let message = run.abandoned_message();
        if run
            .finish(RunStatus::Failed, now, Some(message.to_owned()))
            .is_err()
        {
            return true;
        }
        match self.runs.finish_run(&run) {
            Ok(true) => {
                tracing::warn!(run_id = %run.id, "run {message}");
                if let Some(job_id) = &run.job_id {
                    let _ =
                        self.jobs
                            .record_run(job_id, run.invoked_at, RunStatus::Failed.as_str());
                }
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(run_id = %run.id, error = %e, "failing an abandoned run failed")
            }
        }
        true
    }
}
