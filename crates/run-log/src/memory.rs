//! `InMemoryRuns`: the run repository in memory, for tests and embedders.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::plan::PlannedBatch;
use crate::repo::{Lease, Renewal, RunFilter, RunRepository, StoreError};
use crate::run::{BatchResult, Run};
use crate::status::RunStatus;

#[derive(Default)]
struct State {
    runs: BTreeMap<String, (Run, Option<String>)>,
    batches: BTreeMap<(String, i64), BatchResult>,
    plans: BTreeMap<(String, i64), PlannedBatch>,
    /// Batch claims: owner and expiry, by (run, batch index).
    claims: BTreeMap<(String, i64), (String, DateTime<Utc>)>,
}

/// Whether `lease` (when given) is the stored lease of the run.
fn holds(state: &State, run_id: &str, lease: Option<&Lease>) -> bool {
    lease.is_none_or(|l| {
        state.runs.get(run_id).is_some_and(|(r, _)| {
            r.lease_owner.as_deref() == Some(l.owner.as_str()) && r.lease_epoch == l.epoch
        })
    })
}

/// Runs in memory, with the same lock and instant rules as storage.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use run_log::{InMemoryRuns, Run, RunRepository, StoreError, Trigger};
/// let runs = InMemoryRuns::default();
/// let now = Utc.with_ymd_and_hms(2026, 3, 26, 10, 0, 0).unwrap();
/// runs.insert_run(&Run::start("run_1".into(), "certification_expiry_check", Trigger::Manual, now), Some("job_1")).unwrap();
/// let second = Run::start("run_2".into(), "certification_expiry_check", Trigger::Manual, now);
/// assert!(matches!(runs.insert_run(&second, Some("job_1")), Err(StoreError::Conflict("runs.lock"))));
/// ```
#[derive(Default)]
pub struct InMemoryRuns {
    state: Mutex<State>,
}

impl InMemoryRuns {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a batch result, as a batched run's handler would.
    pub fn add_batch(&self, run_id: &str, batch: BatchResult) {
        self.lock()
            .batches
            .insert((run_id.to_owned(), batch.batch_index), batch);
    }
}

fn matches(run: &Run, f: &RunFilter) -> bool {
    f.job_id
        .as_ref()
        .is_none_or(|j| run.job_id.as_ref() == Some(j))
        && f.kind.as_ref().is_none_or(|k| *k == run.kind)
        && f.status.is_none_or(|s| s == run.status)
        && f.trigger.is_none_or(|t| t == run.trigger)
}

impl RunRepository for InMemoryRuns {
    fn insert_run(&self, run: &Run, lock_key: Option<&str>) -> Result<(), StoreError> {
        let mut state = self.lock();
        if run.status == RunStatus::Running
            && let Some(key) = lock_key
            && state
                .runs
                .values()
                .any(|(r, k)| r.status == RunStatus::Running && k.as_deref() == Some(key))
        {
            return Err(StoreError::Conflict("runs.lock"));
        }
        if let (Some(job), Some(at)) = (&run.job_id, run.scheduled_for)
            && state
                .runs
                .values()
                .any(|(r, _)| r.job_id.as_ref() == Some(job) && r.scheduled_for == Some(at))
        {
            return Err(StoreError::Conflict("runs.job_instant"));
        }
        state
            .runs
            .insert(run.id.clone(), (run.clone(), lock_key.map(str::to_owned)));
        Ok(())
    }

    fn get_run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        Ok(self.lock().runs.get(id).map(|(r, _)| r.clone()))
    }

    fn running_with_lock(&self, lock_key: &str) -> Result<Option<Run>, StoreError> {
        Ok(self
            .lock()
            .runs
            .values()
            .find(|(r, k)| r.status == RunStatus::Running && k.as_deref() == Some(lock_key))
            .map(|(r, _)| r.clone()))
    }

    fn last_finished_run(&self, job_id: &str) -> Result<Option<Run>, StoreError> {
        Ok(self
            .lock()
            .runs
            .values()
            .map(|(r, _)| r)
            .filter(|r| r.job_id.as_deref() == Some(job_id) && r.status.did_work())
            .max_by(|a, b| (a.invoked_at, &a.id).cmp(&(b.invoked_at, &b.id)))
            .cloned())
    }

    fn list_runs(
        &self,
        filter: &RunFilter,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Run>, u64), StoreError> {
        let state = self.lock();
        let mut rows: Vec<Run> = state
            .runs
            .values()
            .map(|(r, _)| r)
            .filter(|r| matches(r, filter))
            .cloned()
            .collect();
        rows.sort_by(|a, b| {
            b.invoked_at
                .cmp(&a.invoked_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        let total = rows.len() as u64;
        let page = rows
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .collect();
        Ok((page, total))
    }

    fn update_run(&self, run: &Run) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.runs.get_mut(&run.id) {
            Some((stored, _)) => {
                // The epoch is the lease's, never a copy's.
                let epoch = stored.lease_epoch;
                *stored = run.clone();
                stored.lease_epoch = epoch;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn delete_run(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        state.batches.retain(|(r, _), _| r != id);
        state.plans.retain(|(r, _), _| r != id);
        state.claims.retain(|(r, _), _| r != id);
        Ok(state.runs.remove(id).is_some())
    }

    fn batch_results(&self, run_id: &str) -> Result<Vec<BatchResult>, StoreError> {
        Ok(self
            .lock()
            .batches
            .iter()
            .filter(|((r, _), _)| r == run_id)
            .map(|(_, b)| *b)
            .collect())
    }

    fn prune_runs_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let doomed: Vec<String> = state
            .runs
            .values()
            .filter(|(r, _)| r.status.is_finished() && r.invoked_at < cutoff)
            .map(|(r, _)| r.id.clone())
            .collect();
        state.batches.retain(|(r, _), _| !doomed.contains(r));
        state.plans.retain(|(r, _), _| !doomed.contains(r));
        state.claims.retain(|(r, _), _| !doomed.contains(r));
        for id in &doomed {
            state.runs.remove(id);
        }
        Ok(doomed.len() as u64)
    }

    fn renew_lease(
        &self,
        id: &str,
        owner: &str,
        epoch: i64,
        until: DateTime<Utc>,
    ) -> Result<Option<Renewal>, StoreError> {
        let mut state = self.lock();
        let Some((run, _)) = state.runs.get_mut(id) else {
            return Ok(None);
        };
        let held = run.status == RunStatus::Running
            && run.lease_owner.as_deref() == Some(owner)
            && run.lease_epoch == epoch;
        if held {
            run.lease_expires_at = Some(until);
        }
        Ok(Some(Renewal {
            status: run.status,
            held,
        }))
    }

    fn release_lease(
        &self,
        id: &str,
        owner: &str,
        epoch: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.runs.get_mut(id) {
            Some((run, _))
                if run.status == RunStatus::Running
                    && run.lease_owner.as_deref() == Some(owner)
                    && run.lease_epoch == epoch =>
            {
                run.lease_expires_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn expired_leases(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Run>, StoreError> {
        let state = self.lock();
        let mut expired: Vec<Run> = state
            .runs
            .values()
            .map(|(r, _)| r)
            .filter(|r| r.lease_expired(now))
            .cloned()
            .collect();
        expired.sort_by(|a, b| (a.lease_expires_at, &a.id).cmp(&(b.lease_expires_at, &b.id)));
        expired.truncate(limit as usize);
        Ok(expired)
    }

    fn finish_run(&self, run: &Run) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.runs.get_mut(&run.id) {
            Some((stored, _))
                if stored.status == RunStatus::Running && stored.lease_epoch == run.lease_epoch =>
            {
                let kept = stored.clone();
                *stored = run.clone();
                stored.users_evaluated = kept.users_evaluated;
                stored.notifications_dispatched = kept.notifications_dispatched;
                stored.batch_size = kept.batch_size;
                stored.planned_batches = kept.planned_batches;
                stored.lease_epoch = kept.lease_epoch;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn insert_plan(
        &self,
        run_id: &str,
        lease: Option<&Lease>,
        batches: &[PlannedBatch],
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if !holds(&state, run_id, lease) {
            return Err(StoreError::Conflict("runs.lease"));
        }
        if batches.iter().any(|b| {
            state
                .plans
                .contains_key(&(run_id.to_owned(), b.batch_index))
        }) {
            return Err(StoreError::Conflict("run_batches.batch_index"));
        }
        for b in batches {
            state
                .plans
                .insert((run_id.to_owned(), b.batch_index), b.clone());
        }
        Ok(())
    }

    fn complete_plan(
        &self,
        run_id: &str,
        lease: Option<&Lease>,
        planned: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if !holds(&state, run_id, lease) {
            return Ok(false);
        }
        match state.runs.get_mut(run_id) {
            Some((run, _)) => {
                run.planned_batches = Some(planned);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn clear_plan(&self, run_id: &str, lease: Option<&Lease>) -> Result<(), StoreError> {
        let mut state = self.lock();
        if !holds(&state, run_id, lease) {
            return Err(StoreError::Conflict("runs.lease"));
        }
        state.plans.retain(|(r, _), _| r != run_id);
        Ok(())
    }

    fn unfinished_batches(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PlannedBatch>, StoreError> {
        let state = self.lock();
        Ok(state
            .plans
            .iter()
            .filter(|((r, i), _)| {
                r == run_id
                    && after.is_none_or(|a| *i > a)
                    && !state.batches.contains_key(&(r.clone(), *i))
            })
            .map(|(_, b)| b.clone())
            .take(limit as usize)
            .collect())
    }

    fn claim_batches(
        &self,
        run_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        from: i64,
        limit: u32,
    ) -> Result<Vec<PlannedBatch>, StoreError> {
        let mut state = self.lock();
        let claimed: Vec<PlannedBatch> = state
            .plans
            .iter()
            .filter(|((r, i), _)| {
                r == run_id
                    && *i >= from
                    && !state.batches.contains_key(&(r.clone(), *i))
                    && state
                        .claims
                        .get(&(r.clone(), *i))
                        .is_none_or(|(_, expires)| *expires <= now)
            })
            .map(|(_, b)| b.clone())
            .take(limit as usize)
            .collect();
        for b in &claimed {
            state.claims.insert(
                (run_id.to_owned(), b.batch_index),
                (owner.to_owned(), until),
            );
        }
        Ok(claimed)
    }

    fn release_batch_claims(&self, run_id: &str, owner: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        let State {
            batches, claims, ..
        } = &mut *state;
        for ((r, i), (o, expires)) in claims.iter_mut() {
            if r == run_id && o == owner && !batches.contains_key(&(r.clone(), *i)) {
                *expires = DateTime::<Utc>::MIN_UTC;
            }
        }
        Ok(())
    }

    fn next_batch_index(&self, run_id: &str) -> Result<i64, StoreError> {
        Ok(self
            .lock()
            .batches
            .keys()
            .filter(|(r, _)| r == run_id)
            .map(|(_, i)| i + 1)
            .max()
            .unwrap_or(0))
    }

    fn take_over_lease(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let mut state = self.lock();
        match state.runs.get_mut(id) {
            Some((run, _)) if run.lease_expired(now) => {
                run.lease_owner = Some(owner.to_owned());
                run.lease_expires_at = Some(until);
                run.lease_epoch += 1;
                Ok(Some(run.lease_epoch))
            }
            _ => Ok(None),
        }
    }
}
