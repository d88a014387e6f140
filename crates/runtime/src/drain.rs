//! Draining a stopping process (`SIGTERM`): no instant fires and no run
//! starts any more; a run in progress stops at its next write boundary,
//! after the batch in flight commits; and every run this process holds
//! but will not finish gets its lease released, so that another instance
//! takes it over at its next tick instead of waiting for the lease to lapse.

use std::time::{Duration, Instant};

use run_log::Run;

use crate::runtime::Runtime;

/// How often [`Runtime::wait_idle`] looks whether the run threads are done.
const IDLE_POLL: Duration = Duration::from_millis(50);

impl Runtime {
    /// Starts draining: the scheduler loop stops at once (it fires
    /// nothing more), the runs waiting for a thread are released, and the
    /// runs in progress stop at their next heartbeat (between batches,
    /// pages or mentors) and release theirs. Calls made on the runtime
    /// afterwards (an HTTP trigger) still claim runs; those are released
    /// at once. Blocks for the releases (a write each).
    pub fn drain(&self) {
        let waiting = self.pool.start_draining();
        self.wake.notify_waiters();
        self.wake.notify_one();
        for (_, run) in &waiting {
            self.release(run);
        }
        tracing::info!(
            released = waiting.len(),
            "draining: no new firings or runs; runs in progress stop after their batch in flight"
        );
    }

    /// Whether this process drains ([`drain`](Self::drain)).
    pub fn is_draining(&self) -> bool {
        self.pool.draining()
    }

    /// Waits until no run is being processed, at most `timeout`; whether
    /// the run threads are all done.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.pool.idle() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(IDLE_POLL);
        }
    }

    /// Lets go of a run this process will not finish, so that another
    /// instance takes it over at its next tick.
    pub(crate) fn release(&self, run: &Run) {
        let now = self.now();
        if let Err(e) = self.runs.release_batch_claims(&run.id, &self.owner) {
            tracing::warn!(run_id = %run.id, error = %e, "draining: releasing batch claims failed; they lapse");
        }
        match self
            .runs
            .release_lease(&run.id, &self.owner, run.lease_epoch, now)
        {
            Ok(true) => tracing::info!(
                run_id = %run.id,
                kind = run.kind.as_str(),
                "draining: released the run's lease; another instance takes it over"
            ),
            Ok(false) => {}
            Err(e) => tracing::warn!(
                run_id = %run.id,
                error = %e,
                "draining: releasing the run's lease failed; it lapses instead"
            ),
        }
    }
}
