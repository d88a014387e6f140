//! The run pool: the threads that process runs, at most
//! [`RuntimeConfig::run_threads`](crate::RuntimeConfig::run_threads) at
//! once, and the runs waiting for one.
//!
//! A run is claimed the moment it is triggered or fires, whatever the
//! pool's load: it is inserted `running`, with its lease, so the unique
//! indexes decide there and then which instance fires an instant and who
//! holds a lock. Then it waits here for a thread, first come first served:
//! never refused, never dropped.
//!
//! **Leases while waiting.** A waiting run's lease is renewed as a running
//! run's is, every third of the lease, by a keeper thread that lives while
//! runs wait (and by every [`Runtime::tick`]): another instance's reaper
//! takes a run over only when its process died, not when it waited long.
//! If the process dies, the leases of its waiting runs lapse with the
//! others and the runs are taken over as usual.
//!
//! **Starting a run that waited.** The run is read again first: one
//! cancelled meanwhile (or failed through `PUT`) is recorded as such on its
//! job and never started; one whose lease another instance holds (it was
//! taken over after renewals failed) is left to that instance.
//!
//! **Threads.** A scenario-evaluation run reads and decides its batches on
//! a second, scoped thread of its own (`scenario_run.rs`); all such runs
//! share one lock, so at most one runs at a time, and the pool uses at
//! most `run_threads + 1` threads (plus the keeper). Threads start when a
//! run comes and end when none waits, so an idle service holds none.

pub(crate) mod queue;

use std::sync::Arc;
use std::time::Duration;

use run_log::{Run, RunStatus};
use scheduler_core::Job;

use crate::execute::Stop;
use crate::runtime::Runtime;

impl Runtime {
    /// Hands `run` (of `job`, or an ad-hoc run without one) to the pool:
    /// a free thread takes it at once, else it waits its turn.
    pub(crate) fn enqueue(self: &Arc<Self>, job: Option<Job>, run: Run) {
        // A draining process starts nothing: another instance takes it.
        if self.is_draining() {
            self.release(&run);
            return;
        }
        let start = self.pool.push((job, run));
        if start.worker {
            let runtime = Arc::clone(self);
            if let Err(e) = std::thread::Builder::new()
                .name("run-worker".into())
                .spawn(move || runtime.work())
            {
                tracing::error!(error = %e, "could not start a run thread");
                // With no thread left to take them, the waiting runs fail
                // rather than wait for ever.
                for (job, run) in self.pool.worker_lost() {
                    let stop = Stop::Failed(format!("could not start the run: {e}"));
                    self.finish(job.as_ref(), run, Err(stop));
                }
            }
        }
        if start.keeper {
            let runtime = Arc::clone(self);
            if let Err(e) = std::thread::Builder::new()
                .name("run-lease-keeper".into())
                .spawn(move || runtime.keep_leases())
            {
                tracing::error!(error = %e, "could not start the lease keeper of waiting runs");
                self.pool.keeper_lost();
            }
        }
    }

    /// A run thread: takes waiting runs in order until none is left.
    fn work(self: Arc<Self>) {
        while let Some((job, run)) = self.pool.next() {
            self.start(job.as_ref(), run);
        }
    }

    /// Starts a run taken from the queue, unless it was cancelled or taken
    /// over while it waited.
    fn start(&self, job: Option<&Job>, run: Run) {
        if self.is_draining() {
            self.release(&run);
            return;
        }
        match self.runs.get_run(&run.id) {
            Ok(Some(stored))
                if stored.status == RunStatus::Running
                    && stored.lease_owner.as_deref() == Some(self.owner.as_str())
                    && stored.lease_epoch == run.lease_epoch =>
            {
                self.execute(job, run);
            }
            Ok(Some(stored)) if stored.status == RunStatus::Running => {
                tracing::warn!(run_id = %run.id, owner = stored.lease_owner.as_deref(), "a waiting run was taken over by another instance");
            }
            // Cancelled or failed meanwhile: the stored outcome stands, and
            // is recorded on the job.
            Ok(Some(_)) => {
                self.finish(job, run, Err(Stop::Cancelled));
            }
            Ok(None) => {}
            // The run as it was queued: its heartbeat will notice a change.
            Err(e) => {
                tracing::warn!(run_id = %run.id, error = %e, "reading a waiting run failed; starting it");
                self.execute(job, run);
            }
        }
    }

    /// The keeper: while runs wait, renews their leases every third of the
    /// lease; ends when none waits.
    fn keep_leases(self: Arc<Self>) {
        let every = (self.lease_ttl / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(1));
        while self.pool.keeper_waits(every) {
            self.renew_waiting_leases();
        }
    }

    /// Renews the leases of the runs waiting for a thread, as the heartbeat
    /// of a running run does.
    pub(crate) fn renew_waiting_leases(&self) {
        let until = self.now() + self.lease_ttl;
        for (id, epoch) in self.pool.waiting_ids() {
            if let Err(e) = self.runs.renew_lease(&id, &self.owner, epoch, until) {
                tracing::warn!(run_id = %id, error = %e, "renewing the lease of a waiting run failed");
            }
        }
    }
}
