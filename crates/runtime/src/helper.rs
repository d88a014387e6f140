//! Helping another instance's run: the batches of a scenario-evaluation
//! run are claimed by any live instance (`RunRepository::claim_batches`),
//! so a large run goes faster with more instances. At each tick an
//! instance that does not hold the running scenario run, once that run's
//! plan is complete, starts one helper thread for it: it claims a few
//! batches at a time, evaluates and commits them, until none is left to
//! claim. The run's own instance ends the run when every batch committed.
//!
//! A helper's batch is written once whoever commits it (the unique batch
//! index), and adds to the run's totals in its own transaction; a helper
//! that dies leaves claims that lapse after a lease, and are claimed again.

use std::sync::Arc;

use run_log::{Run, RunStatus};
use scenario_engine::rules::Rules;
use scenario_engine::service::{BatchRequest, BatchWrite, PreparedBatch};

use crate::claim::SCENARIO_LOCK;
use crate::runtime::Runtime;
use crate::scenario_run::{HELPER_CLAIM_CHUNK, batch_taken, next_claim_from};
use crate::telemetry;

impl Runtime {
    /// Starts a helper thread for the running scenario run, when another
    /// instance holds it, its plan is complete, and this instance is not
    /// helping it yet (nor draining).
    pub(crate) fn help_running_run(self: &Arc<Self>) {
        if self.is_draining() {
            return;
        }
        let run = match self.runs.running_with_lock(SCENARIO_LOCK) {
            Ok(Some(run)) => run,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "looking for a run to help failed");
                return;
            }
        };
        if run.lease_owner.as_deref() == Some(self.owner.as_str())
            || run.planned_batches.is_none()
            || !self.pool.start_helping(&run.id)
        {
            return;
        }
        let helper = Arc::clone(self);
        let id = run.id.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("run-helper".into())
            .spawn(move || helper.help(run))
        {
            tracing::warn!(run_id = %id, error = %e, "could not start a helper thread");
            self.pool.stop_helping(&id);
        }
    }

    /// The helper thread: claims, evaluates and commits batches of `run`
    /// until none is left to claim, the run ends, or this instance drains.
    fn help(self: Arc<Self>, run: Run) {
        let span = tracing::info_span!("help", run_id = %run.id);
        let _entered = span.enter();
        let zone = run
            .job_id
            .as_deref()
            .and_then(|id| self.jobs.get(id).ok())
            .and_then(|job| crate::params::evaluation_timezone_param(&job.params).ok())
            .flatten();
        let batches = match zone {
            Some(timezone) => self.batches.with_rules(Rules {
                timezone,
                ..*self.batches.rules()
            }),
            None => self.batches.clone(),
        };
        let mut committed = 0_usize;
        // Where the next claim looks from, as for the run's own reader.
        let mut from = 0;
        loop {
            if self.is_draining() {
                break;
            }
            match self.runs.get_run(&run.id) {
                Ok(Some(stored)) if stored.status == RunStatus::Running => {}
                _ => break,
            }
            let now = self.now();
            let claimed = match self.runs.claim_batches(
                &run.id,
                &self.owner,
                now,
                now + self.lease_ttl,
                from,
                HELPER_CLAIM_CHUNK,
            ) {
                Ok(claimed) => match next_claim_from(from, &claimed) {
                    Some(next) => {
                        from = next;
                        if claimed.is_empty() {
                            continue;
                        }
                        claimed
                    }
                    None => break,
                },
                Err(e) => {
                    tracing::warn!(error = %e, "claiming batches to help failed");
                    break;
                }
            };
            let mut group: Vec<BatchWrite> = Vec::with_capacity(claimed.len());
            for batch in claimed {
                let mut request = BatchRequest::new(run.id.clone(), batch.batch_index, Vec::new());
                request.dry_run = run.dry_run;
                match batches.prepare_planned_batch(
                    request,
                    &batch.first_user_id,
                    &batch.last_user_id,
                ) {
                    Ok(prepared) => group.push(PreparedBatch::into_write(prepared)),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading a batch to help failed; its claim lapses");
                        break;
                    }
                }
            }
            let mut enqueued = false;
            for result in batches.commit_batches(&group) {
                match result {
                    Ok(totals) => {
                        committed += 1;
                        enqueued |= totals.notifications_sent > 0;
                    }
                    Err(e) if batch_taken(&e) => {}
                    Err(e) => tracing::warn!(error = %e, "a helped batch failed; its claim lapses"),
                }
            }
            telemetry::batches_committed(group.len());
            if enqueued {
                self.delivery.wake();
            }
        }
        if let Err(e) = self.runs.release_batch_claims(&run.id, &self.owner) {
            tracing::warn!(error = %e, "releasing the claims of a helper failed; they lapse");
        }
        tracing::info!(batches = committed, "helped another instance's run");
        self.pool.stop_helping(&run.id);
    }
}
