//! A scenario-evaluation run: plan, then claim, evaluate and commit the
//! planned batches on a reader thread and one or more committing threads,
//! committing ready batches together;
//! other instances claim batches of the same run too (`helper.rs`).
//!
//! **Plan.** Unless the run already has a complete plan (it is being
//! resumed), one streaming pass over the active mentors, in `user_id` order,
//! cuts them into batches of `batch_size` and writes each batch's key range
//! ([`BatchPlanner`], [`PLAN_PAGE`] ids read per page, [`PLAN_CHUNK`]
//! batches written per transaction). A resumed or taken-over run evaluates
//! exactly the batches its plan names.
//!
//! **Claims.** The reader claims unfinished batches of [`CLAIM_USERS`]
//! mentors at a time, in index order (`RunRepository::claim_batches`), each claim
//! looking on from the last batch it claimed: any instance may claim the
//! rest, and each batch goes to one claimer. When none is left
//! to claim, the run waits for the batches others claimed ([`HELPERS_POLL`]),
//! claims again those whose claims lapsed, and ends when every planned
//! batch committed; its totals are the sum of its batches, whoever wrote them.
//!
//! **Two stages.** A reader thread reads and decides the next batches (on
//! its own connection: SQLite's readers do not wait for its one writer)
//! while the run's thread commits the ones before. With
//! [`commit_threads`](crate::RuntimeConfig::commit_threads) above 1, that
//! many threads commit, each taking the next ready group on its own
//! connection (PostgreSQL writes them side by side; their totals meet only
//! in the run row's `UPDATE` at the end of each transaction). The first
//! thread to fail stops the others before their next group; each asks the
//! heartbeat before each of its groups.
//!
//! **Group commit.** The run's thread writes every batch that is ready when
//! it is free in one transaction, up to [`COMMIT_GROUP_USERS`] mentors, so
//! that they share the cost of a commit (the WAL pages every commit
//! rewrites, `BEGIN`/`COMMIT`, the run's totals). Each batch of a group is
//! still all or nothing with its own batch result; if the group's write
//! fails, its batches are written one by one. Cancellation is a write, so
//! it lands between transactions and is honoured before the next group.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use run_log::{BatchPlanner, Lease, PlannedBatch, Run, StoreError};
use scenario_engine::rules::Rules;
use scenario_engine::service::{
    BatchEvaluator, BatchRequest, BatchWrite, EvaluationError, LeaseFence,
};
use serde_json::{Value, json};

use crate::execute::Stop;
use crate::runtime::Runtime;
use crate::telemetry;

/// Active ids read per page while planning a run's batches: one page in
/// memory, never all mentors.
const PLAN_PAGE: u32 = 5000;

/// Planned batches written per transaction while planning.
const PLAN_CHUNK: usize = 1000;

/// Mentors the run's reader claims at a time, in whole batches (64 batches
/// of the default 50; one batch when batches are larger): few enough that
/// other instances find the rest of a large run to claim and that a claim
/// never outlives its lease unfinished, many enough that claims are rare.
/// A claim is a write, and on SQLite it waits for the committing thread's
/// group to commit, with the reader stalled meanwhile: claiming 8 batches
/// of 50 at a time made a 100,000-mentor run take half again as long as
/// 64 (docs/benchmarks.md).
const CLAIM_USERS: u32 = 3200;

/// The batches of `batch_size` mentors the run's reader claims at a time.
fn claim_chunk(batch_size: Option<i64>) -> u32 {
    let size = batch_size
        .and_then(|b| u32::try_from(b).ok())
        .filter(|b| *b > 0)
        .unwrap_or(50);
    (CLAIM_USERS / size).max(1)
}

/// Where the next claim looks from, after a claim from `from` gave
/// `claimed`: one past its last batch; the start, once nothing is left
/// ahead, for the lapsed claims behind; `None` when even a claim from the
/// start found nothing (none is left to claim).
pub(crate) fn next_claim_from(from: i64, claimed: &[PlannedBatch]) -> Option<i64> {
    match claimed.last() {
        Some(last) => Some(last.batch_index + 1),
        None if from > 0 => Some(0),
        None => None,
    }
}

/// Batches a helper claims at a time: it reads and commits them as one
/// group, so they are as many as a commit group holds.
pub(crate) const HELPER_CLAIM_CHUNK: u32 = 8;

/// How often a run whose remaining batches other instances claimed looks
/// whether they committed (or their claims lapsed).
const HELPERS_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Prepared batches the reader thread may hold ready for the committing
/// thread: enough to even out batches that take one stage longer than
/// usual (a prepared batch of 50 mentors is about 100 KB of decisions).
const PREPARED_AHEAD: usize = 8;

/// The most mentors committed in one transaction: 8 batches of the
/// default 50 (a larger batch is committed alone). A group holds SQLite's
/// one write lock for some 20 ms, so an API write waits no longer than
/// that; fewer mentors per commit cost a run more commits (a 100,000-mentor
/// run took a fifth longer with one batch per commit, docs/benchmarks.md).
const COMMIT_GROUP_USERS: usize = 400;

/// The run's heartbeat (`execute.rs`): true once the run should stop.
/// Every committing thread asks it before each group.
pub(crate) type Heartbeat<'a> = dyn Fn() -> bool + Sync + 'a;

impl Runtime {
    /// Evaluates every active mentor for every scenario, batch by batch:
    /// plans unless the run has a complete plan, then evaluates every
    /// planned batch without a batch result, in index order (see the module
    /// docs). `batch_size` is the job's `params.batch_size`, `zone` its
    /// `params.evaluation_timezone` when it has one. Returns the run's
    /// result summary.
    pub(crate) fn scenario_evaluation(
        &self,
        batch_size: u32,
        zone: Option<chrono_tz::Tz>,
        run: &Run,
        cancelled: &Heartbeat<'_>,
    ) -> Result<Value, Stop> {
        // The run's own batch size (the request's, or the job's when the run
        // was made), else the job's `params.batch_size` now.
        let batch_size = run
            .batch_size
            .and_then(|b| u32::try_from(b).ok())
            .unwrap_or(batch_size);
        // The job's own evaluation time zone, else the service's.
        let batches = match zone {
            Some(timezone) => self.batches.with_rules(Rules {
                timezone,
                ..*self.batches.rules()
            }),
            None => self.batches.clone(),
        };
        let planned = match run.planned_batches {
            Some(n) => n,
            None => self.plan(run, batch_size, cancelled)?,
        };
        // The batches are claimed, by this instance and any other that
        // helps (`helper.rs`): when none is left to claim, the run waits
        // for the batches others claimed, and takes over those whose
        // claims lapse (their instance died). It ends when every planned
        // batch has committed.
        loop {
            self.pipeline(&batches, run, cancelled)?;
            let left = self
                .runs
                .unfinished_batches(&run.id, None, 1)
                .map_err(|e| failed("reading the batch plan failed", &e))?;
            if left.is_empty() {
                break;
            }
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            std::thread::sleep(HELPERS_POLL);
        }
        let stored = self.runs.get_run(&run.id).ok().flatten();
        Ok(json!({
            "batches": planned,
            "batch_size": batch_size,
            "users_evaluated": stored.as_ref().map_or(0, |r| r.users_evaluated),
            "notifications_dispatched": stored.as_ref().map_or(0, |r| r.notifications_dispatched),
            "dry_run": run.dry_run,
        }))
    }

    /// Claims, evaluates and commits batches of the run until none is left
    /// to claim (a reader and one or more committing threads, see the
    /// module docs).
    fn pipeline(
        &self,
        batches: &BatchEvaluator,
        run: &Run,
        cancelled: &Heartbeat<'_>,
    ) -> Result<(), Stop> {
        // The reader stops at its next send once every committing thread
        // has hung up (a cancellation or a failure: the first to stop tells
        // the others through `stopping`). Committed groups go back to the
        // reader to be freed where they were allocated, off the committing
        // threads (`done` is unbounded, but the reader empties it before
        // each batch, and only what the reader sent comes back: a few groups).
        let stopping = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let (ready, prepared) = mpsc::sync_channel(PREPARED_AHEAD);
            let (done, committed) = mpsc::channel();
            // The reader and the other committing threads log in the run's
            // span too.
            let span = tracing::Span::current();
            let reader_span = span.clone();
            scope.spawn(move || {
                let _entered = reader_span.enter();
                self.prepare_batches(batches, run, &ready, &committed);
            });
            // The receiver is dropped when the last committing thread ends,
            // which ends the reader.
            let prepared = Arc::new(Mutex::new(prepared));
            let others: Vec<_> = (1..self.commit_threads)
                .map(|_| {
                    let (prepared, done, span) =
                        (Arc::clone(&prepared), done.clone(), span.clone());
                    let stopping = &stopping;
                    scope.spawn(move || {
                        let _entered = span.enter();
                        let outcome =
                            self.commit_groups(batches, &prepared, &done, cancelled, stopping);
                        stop_others(outcome, stopping)
                    })
                })
                .collect();
            let mine = self.commit_groups(batches, &prepared, &done, cancelled, &stopping);
            let mine = stop_others(mine, &stopping);
            drop(prepared);
            // The first failure wins; a committing thread that panicked
            // fails the run.
            others.into_iter().fold(mine, |outcome, other| {
                let other = other.join().unwrap_or_else(|_| {
                    Err(failed("committing batches failed", &"a thread panicked"))
                });
                outcome.and(other)
            })
        })
    }

    /// The reader thread: claims unfinished batches a few at a time and,
    /// for each, reads its mentors and decides; sends each prepared
    /// batch (or the failure that ends the run) to the committing thread.
    fn prepare_batches(
        &self,
        batches: &BatchEvaluator,
        run: &Run,
        ready: &SyncSender<Result<BatchWrite, Stop>>,
        committed: &Receiver<Vec<BatchWrite>>,
    ) {
        // Where the next claim looks from (`next_claim_from`).
        let mut from = 0;
        loop {
            let now = self.now();
            let page = match self.runs.claim_batches(
                &run.id,
                &self.owner,
                now,
                now + self.lease_ttl,
                from,
                claim_chunk(run.batch_size),
            ) {
                Ok(page) => page,
                Err(e) => {
                    let _ = ready.send(Err(failed("claiming batches failed", &e)));
                    return;
                }
            };
            let Some(next) = next_claim_from(from, &page) else {
                return;
            };
            from = next;
            for batch in page {
                // Frees the groups committed since the last batch.
                while committed.try_recv().is_ok() {}
                let mut request = BatchRequest::new(run.id.clone(), batch.batch_index, Vec::new());
                request.dry_run = run.dry_run;
                let lease = LeaseFence {
                    owner: self.owner.clone(),
                    epoch: run.lease_epoch,
                };
                let next = batches
                    .prepare_planned_batch(request, &batch.first_user_id, &batch.last_user_id)
                    .map(|prepared| BatchWrite {
                        lease: Some(lease),
                        ..prepared.into_write()
                    })
                    .map_err(|e| failed("reading a batch failed", &e));
                let stop = next.is_err();
                if ready.send(next).is_err() || stop {
                    return;
                }
            }
        }
    }

    /// A committing thread: takes the batches that are ready (up to
    /// [`COMMIT_GROUP_USERS`] mentors), checks the heartbeat, and writes
    /// them in one transaction; wakes the notification worker when a group
    /// enqueued something. Returns when the reader is done, at the first
    /// failure or cancellation, or when another committing thread stopped
    /// (`stopping`, which [`stop_others`] sets).
    fn commit_groups(
        &self,
        batches: &BatchEvaluator,
        prepared: &Mutex<Receiver<Result<BatchWrite, Stop>>>,
        done: &Sender<Vec<BatchWrite>>,
        cancelled: &Heartbeat<'_>,
        stopping: &AtomicBool,
    ) -> Result<(), Stop> {
        // A batch taken from the channel that did not fit the group before.
        let mut held: Option<BatchWrite> = None;
        loop {
            let taken = {
                let Ok(prepared) = prepared.lock() else {
                    return Err(failed("committing batches failed", &"a thread panicked"));
                };
                if stopping.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let first = match held.take() {
                    Some(b) => b,
                    None => match prepared.recv() {
                        Ok(b) => b?,
                        Err(_) => return Ok(()),
                    },
                };
                take_group(first, &prepared)
            };
            let (group, next, stop) = taken;
            held = next;
            // A cancellation can only land between transactions.
            if stopping.load(Ordering::Relaxed) {
                return Ok(());
            }
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            let mut enqueued = false;
            let mut written = 0;
            for committed in batches.commit_batches(&group) {
                match committed {
                    Ok(totals) => {
                        written += 1;
                        enqueued |= totals.notifications_sent > 0;
                        tracing::debug!(
                            batch_index = totals.batch_index,
                            users_evaluated = totals.users_evaluated,
                            notifications = totals.notifications_sent,
                            "batch committed"
                        );
                    }
                    // Another process wrote this batch (a takeover race): it is done.
                    Err(e) if batch_taken(&e) => {}
                    // Another process took the run over: stop writing to it.
                    Err(e) if lease_lost(&e) => return Err(Stop::LeaseLost),
                    Err(e) => return Err(failed("batch failed", &e)),
                }
            }
            telemetry::batches_committed(written);
            // Once the reader has finished, the last groups are freed here.
            let _ = done.send(group);
            if enqueued {
                self.delivery.wake();
            }
            if let Some(e) = stop {
                return Err(e);
            }
        }
    }

    /// Writes the batch plan of `run` in one streaming pass over the active
    /// mentors (keyset pages of [`PLAN_PAGE`] ids, chunks of
    /// [`PLAN_CHUNK`] batches), then marks it complete. A plan left
    /// incomplete by a process that died is thrown away first.
    fn plan(&self, run: &Run, batch_size: u32, cancelled: &dyn Fn() -> bool) -> Result<i64, Stop> {
        let failed = |e: &dyn std::fmt::Display| failed("planning the batches failed", e);
        // Plan writes are fenced by the run's lease: a process whose run
        // was taken over never changes the plan its successor works from.
        let plan_failed = |e: &StoreError| match e {
            StoreError::Conflict("runs.lease") => Stop::LeaseLost,
            e => failed(e),
        };
        let lease = Lease::of(run);
        self.runs
            .clear_plan(&run.id, Some(&lease))
            .map_err(|e| plan_failed(&e))?;
        let mut planner = BatchPlanner::new(batch_size);
        let mut chunk = Vec::with_capacity(PLAN_CHUNK);
        let mut after: Option<String> = None;
        loop {
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            let ids = self
                .batches
                .active_user_ids_after(after.as_deref(), PLAN_PAGE)
                .map_err(|e| failed(&e))?;
            let full = ids.len() == PLAN_PAGE as usize;
            chunk.extend(ids.iter().filter_map(|id| planner.push(id)));
            if !full {
                chunk.extend(planner.finish());
            }
            if chunk.len() >= PLAN_CHUNK || !full {
                self.runs
                    .insert_plan(&run.id, Some(&lease), &chunk)
                    .map_err(|e| plan_failed(&e))?;
                chunk.clear();
            }
            match ids.into_iter().last() {
                Some(last) if full => after = Some(last),
                _ => break,
            }
        }
        let planned = planner.planned();
        if !self
            .runs
            .complete_plan(&run.id, Some(&lease), planned)
            .map_err(|e| failed(&e))?
        {
            return Err(Stop::LeaseLost);
        }
        Ok(planned)
    }
}

/// A commit group: `first` and the prepared batches already waiting behind
/// it, up to [`COMMIT_GROUP_USERS`] mentors. Also returns a batch taken that
/// did not fit (the first of the next group) and a failure the reader sent.
fn take_group(
    first: BatchWrite,
    prepared: &Receiver<Result<BatchWrite, Stop>>,
) -> (Vec<BatchWrite>, Option<BatchWrite>, Option<Stop>) {
    let mut users = group_users(&first);
    let mut group = vec![first];
    while users < COMMIT_GROUP_USERS {
        match prepared.try_recv() {
            Ok(Ok(next)) if users + group_users(&next) <= COMMIT_GROUP_USERS => {
                users += group_users(&next);
                group.push(next);
            }
            Ok(Ok(next)) => return (group, Some(next), None),
            Ok(Err(e)) => return (group, None, Some(e)),
            Err(_) => break,
        }
    }
    (group, None, None)
}

/// A committing thread's `outcome`, after telling the others to stop when
/// it is a stop (once the reader is done, they commit what they took).
fn stop_others(outcome: Result<(), Stop>, stopping: &AtomicBool) -> Result<(), Stop> {
    if outcome.is_err() {
        stopping.store(true, Ordering::Relaxed);
    }
    outcome
}

/// A run's failure: what failed, and why.
fn failed(what: &str, e: &dyn std::fmt::Display) -> Stop {
    Stop::Failed(format!("{what}: {e}"))
}

/// The mentors a batch evaluates, for sizing a commit group.
fn group_users(batch: &BatchWrite) -> usize {
    usize::try_from(batch.users_evaluated).unwrap_or(0)
}

/// Whether a batch write was refused because the run's lease is no longer
/// the one it was written under (fencing: another process took it over).
fn lease_lost(e: &EvaluationError) -> bool {
    matches!(
        e,
        EvaluationError::Store(scenario_engine::service::StoreError::Conflict("runs.lease"))
    )
}

/// Whether a batch write failed because the run already has a batch with
/// that index (the repository then wrote nothing): another process wrote
/// it, after a takeover race, or a concurrent orchestrated batch did.
pub(crate) fn batch_taken(e: &EvaluationError) -> bool {
    matches!(
        e,
        EvaluationError::Store(scenario_engine::service::StoreError::Conflict(
            "batch_results.batch_index"
        ))
    )
}

#[cfg(test)]
mod tests {
    use run_log::PlannedBatch;

    use super::{claim_chunk, next_claim_from};

    fn batch(batch_index: i64) -> PlannedBatch {
        PlannedBatch {
            batch_index,
            first_user_id: "usr_a".into(),
            last_user_id: "usr_b".into(),
            user_count: 2,
        }
    }

    #[test]
    fn claims_look_on_from_the_last_batch_then_once_from_the_start() {
        assert_eq!(next_claim_from(0, &[batch(0), batch(1)]), Some(2));
        assert_eq!(next_claim_from(2, &[batch(7)]), Some(8));
        assert_eq!(next_claim_from(8, &[]), Some(0), "lapsed claims behind");
        assert_eq!(next_claim_from(0, &[]), None, "nothing left to claim");
    }

    #[test]
    fn a_claim_holds_about_the_same_mentors_whatever_the_batch_size() {
        assert_eq!(claim_chunk(Some(50)), 64);
        assert_eq!(claim_chunk(None), 64, "the default batch size");
        assert_eq!(claim_chunk(Some(500)), 6);
        assert_eq!(claim_chunk(Some(10_000)), 1, "at least one batch");
        assert_eq!(claim_chunk(Some(0)), 64, "a nonsense size falls back");
    }
}
