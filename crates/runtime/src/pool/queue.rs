//! The state of the run pool, apart from the runtime that uses it: how
//! many threads it may run, how many it runs, the runs waiting for one,
//! and whether the keeper of their leases is up.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use run_log::Run;
use scheduler_core::Job;

/// Run threads unless the configuration says otherwise.
pub const DEFAULT_RUN_THREADS: usize = 4;

/// A run waiting for a thread: the run, and its job (none for an ad-hoc run).
pub(crate) type Waiting = (Option<Job>, Run);

/// The run pool's threads and queue.
#[derive(Debug)]
pub(crate) struct RunPool {
    threads: usize,
    state: Mutex<State>,
    /// Signalled when a run leaves the queue: the keeper stops once it is empty.
    taken: Condvar,
}

#[derive(Debug, Default)]
struct State {
    waiting: VecDeque<Waiting>,
    /// Threads processing runs, or about to take the next.
    workers: usize,
    /// Whether the keeper thread is up.
    keeper: bool,
    /// Whether the process drains: no run is queued or started any more.
    draining: bool,
    /// The runs of other instances a helper thread of this one helps.
    helping: std::collections::BTreeSet<String>,
}

/// What the caller of [`RunPool::push`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Start {
    /// A run thread (one is free): it takes the run at once.
    pub(crate) worker: bool,
    /// The keeper (the run waits, and no keeper is up).
    pub(crate) keeper: bool,
}

impl RunPool {
    /// A pool of `threads` run threads (at least one).
    pub(crate) fn new(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            state: Mutex::default(),
            taken: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a run, and says which threads the caller starts: a worker if
    /// fewer than `threads` run, else the keeper if the run waits and none
    /// is up. Both are counted as started here.
    pub(crate) fn push(&self, waiting: Waiting) -> Start {
        let mut s = self.lock();
        s.waiting.push_back(waiting);
        let worker = s.workers < self.threads;
        if worker {
            s.workers += 1;
        }
        let keeper = !worker && !s.keeper;
        if keeper {
            s.keeper = true;
        }
        Start { worker, keeper }
    }

    /// The next run for a worker, oldest first; `None` (the worker is
    /// counted out and ends) when none waits.
    pub(crate) fn next(&self) -> Option<Waiting> {
        let next = {
            let mut s = self.lock();
            let next = s.waiting.pop_front();
            if next.is_none() {
                s.workers -= 1;
            }
            next
        };
        self.taken.notify_all();
        next
    }

    /// A worker could not be started: it is counted out, and when no
    /// worker is left to take them the waiting runs are handed back.
    pub(crate) fn worker_lost(&self) -> Vec<Waiting> {
        let mut s = self.lock();
        s.workers -= 1;
        if s.workers > 0 {
            return Vec::new();
        }
        s.waiting.drain(..).collect()
    }

    /// Starts draining: from now on [`push`](Self::push) is refused, and
    /// the runs waiting for a thread are handed back (their leases are to
    /// be released).
    pub(crate) fn start_draining(&self) -> Vec<Waiting> {
        let waiting = {
            let mut s = self.lock();
            s.draining = true;
            s.waiting.drain(..).collect()
        };
        self.taken.notify_all();
        waiting
    }

    /// Counts a helper of `run_id` in; `false` when one already helps it.
    pub(crate) fn start_helping(&self, run_id: &str) -> bool {
        self.lock().helping.insert(run_id.to_owned())
    }

    /// Counts the helper of `run_id` out.
    pub(crate) fn stop_helping(&self, run_id: &str) {
        self.lock().helping.remove(run_id);
    }

    /// Whether the pool drains.
    pub(crate) fn draining(&self) -> bool {
        self.lock().draining
    }

    /// Whether no run thread is processing a run (nor about to).
    pub(crate) fn idle(&self) -> bool {
        let s = self.lock();
        s.workers == 0 && s.waiting.is_empty() && s.helping.is_empty()
    }

    /// The keeper could not be started.
    pub(crate) fn keeper_lost(&self) {
        self.lock().keeper = false;
    }

    /// The keeper's wait: up to `every`, or until no run waits. `true` when
    /// runs still wait (their leases are due for renewal); `false` when
    /// none does, and the keeper is counted out.
    pub(crate) fn keeper_waits(&self, every: Duration) -> bool {
        let s = self.lock();
        let (mut s, _) = self
            .taken
            .wait_timeout_while(s, every, |s| !s.waiting.is_empty())
            .unwrap_or_else(PoisonError::into_inner);
        if s.waiting.is_empty() {
            s.keeper = false;
            return false;
        }
        true
    }

    /// The ids of the waiting runs, with the lease epochs they hold.
    pub(crate) fn waiting_ids(&self) -> Vec<(String, i64)> {
        self.lock()
            .waiting
            .iter()
            .map(|(_, run)| (run.id.clone(), run.lease_epoch))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use chrono::{TimeZone, Utc};
    use run_log::Trigger;

    use super::*;

    fn run(id: &str) -> Waiting {
        let at = Utc.with_ymd_and_hms(2026, 3, 26, 10, 0, 0).unwrap();
        (
            None,
            Run::start(id.into(), "pause_auto_lift", Trigger::Manual, at),
        )
    }

    #[test]
    fn runs_past_the_threads_wait_in_order_and_one_keeper_keeps_them() {
        let pool = RunPool::new(2);
        let start = |worker, keeper| Start { worker, keeper };
        assert_eq!(pool.push(run("run_1")), start(true, false));
        assert_eq!(pool.push(run("run_2")), start(true, false));
        assert_eq!(pool.push(run("run_3")), start(false, true));
        assert_eq!(pool.push(run("run_4")), start(false, false));
        let waiting: Vec<String> = pool.waiting_ids().into_iter().map(|(id, _)| id).collect();
        assert_eq!(waiting, ["run_1", "run_2", "run_3", "run_4"]);
        let ids: Vec<String> = std::iter::from_fn(|| pool.next())
            .map(|(_, r)| r.id)
            .collect();
        assert_eq!(ids, ["run_1", "run_2", "run_3", "run_4"]);
        assert!(!pool.keeper_waits(Duration::ZERO), "nothing waits");
        // The worker that found nothing was counted out: one is free again.
        assert_eq!(pool.push(run("run_5")), start(true, false));
    }

    #[test]
    fn the_last_worker_lost_hands_the_waiting_runs_back() {
        let pool = RunPool::new(1);
        pool.push(run("run_1"));
        pool.push(run("run_2"));
        let back: Vec<String> = pool.worker_lost().into_iter().map(|(_, r)| r.id).collect();
        assert_eq!(back, ["run_1", "run_2"]);
        assert!(pool.waiting_ids().is_empty());
    }
}
