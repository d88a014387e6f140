//! Batches of a scenario-evaluation run (docs/runs.md): load the
//! batch's mentors at once, decide every (mentor, scenario) with
//! [`evaluate`], and write the whole batch in one transaction through
//! [`BatchRepository`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::batch_repo::{BatchEntry, BatchOutcome, BatchRepository, BatchWrite, Enqueue, rank};
use super::batch_request::{
    BatchReport, BatchRequest, BatchTotals, BatchUserResult, PreparedBatch, UNKNOWN_USER,
};
use super::clock::Clock;
use super::evaluation_repo::Subject;
use super::evaluation_service::EvaluationError;
use super::ids::{IdSource, lookup_id};
use super::render::{Rendered, Target, already_notified, render, snapshot};
use crate::rules::{
    Decision, Metadata, MilestoneType, Rules, ScenarioType, evaluate, truncate_to_seconds,
};

/// Evaluates batches of a scenario-evaluation run.
///
/// Each batch costs a constant number of queries to read
/// ([`BatchRepository::load_subjects`]) and one transaction to write
/// ([`BatchRepository::record_batch`]), whatever its size.
///
/// # Several decisions of one mentor in a batch
///
/// Each mentor's decisions are made in the order of
/// [`BatchRequest::scenarios`] against an in-memory copy of their history
/// that every decision that fires updates, exactly as if the evaluations
/// were recorded one after the other: an inactivity reminder and a
/// milestone may fire together (their cooldowns are separate), but of two
/// milestones reached at once only the first fires; the second is
/// `cooldown_active` and fires in a later run once the cooldown is over. A
/// dry run follows the same rule, so it reports what the real batch would
/// do. Should a notification lose its dedupe key to another writer between
/// read and write, its decision is stored `already_notified`; the decisions
/// after it in the batch still saw it as sent.
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::rules::Rules;
/// use scenario_engine::service::{BatchEvaluator, BatchRequest, MentorRepository, MentorUpsert};
/// use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
/// let store = Arc::new(InMemoryStore::default());
/// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
/// let upsert = MentorUpsert {
///     org_id: Some("org_oslo_01".into()),
///     last_active_at: Some(Utc.with_ymd_and_hms(2026, 3, 16, 14, 22, 0).unwrap()),
///     sessions_count: Some(12),
///     first_session_at: Some(Utc.with_ymd_and_hms(2026, 1, 5, 17, 0, 0).unwrap()),
///     ..MentorUpsert::default()
/// };
/// store.upsert_mentor("usr_mentor_7821", &upsert, now).unwrap();
/// let batches = BatchEvaluator::new(store.clone(), Arc::new(FixedClock::new(now)), Arc::new(UlidIds::new()), Rules::default());
/// let ids = vec!["usr_mentor_7821".to_owned(), "usr_nobody".to_owned()];
/// let report = batches.evaluate_batch(BatchRequest::new("run_1", 0, ids)).unwrap();
/// assert_eq!((report.users_evaluated, report.notifications_sent), (1, 2));
/// let notified: Vec<_> = report.results.iter().filter(|r| r.notified).map(|r| r.reason_code.as_str()).collect();
/// assert_eq!(notified, ["threshold_reached", "milestone_reached"]);
/// assert_eq!(report.results.last().unwrap().reason_code, "unknown_user");
/// ```
#[derive(Clone)]
pub struct BatchEvaluator {
    repo: Arc<dyn BatchRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    rules: Rules,
}

/// The store, the clock and the ids are trait objects, so they show as `..`.
impl std::fmt::Debug for BatchEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchEvaluator")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl BatchEvaluator {
    /// An evaluator over `repo` with the given rules.
    pub fn new(
        repo: Arc<dyn BatchRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        rules: Rules,
    ) -> Self {
        Self {
            repo,
            clock,
            ids,
            rules,
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The same evaluator (store, clock, ids) under other rules: a job's
    /// own evaluation time zone, for example (`params.evaluation_timezone`,
    /// docs/scheduling.md).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
    /// # use scenario_engine::rules::Rules;
    /// # use scenario_engine::service::BatchEvaluator;
    /// # use chrono::Utc;
    /// let evaluator = BatchEvaluator::new(
    ///     Arc::new(InMemoryStore::default()),
    ///     Arc::new(FixedClock::new(Utc::now())),
    ///     Arc::new(UlidIds::new()),
    ///     Rules::default(),
    /// );
    /// let oslo = evaluator.with_rules(Rules {
    ///     timezone: chrono_tz::Europe::Oslo,
    ///     ..*evaluator.rules()
    /// });
    /// assert_eq!(oslo.rules().timezone, chrono_tz::Europe::Oslo);
    /// assert_eq!(evaluator.rules().timezone, chrono_tz::UTC);
    /// ```
    #[must_use]
    pub fn with_rules(&self, rules: Rules) -> Self {
        Self {
            rules,
            ..self.clone()
        }
    }

    /// Up to `limit` ids of active mentors after `after`, in `user_id`
    /// order: the pages a run plans its batches from.
    ///
    /// # Errors
    /// [`EvaluationError::Store`].
    pub fn active_user_ids_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, EvaluationError> {
        Ok(self.repo.active_user_ids_after(after, limit)?)
    }

    /// Evaluates one batch: every (mentor, scenario) decided, recorded, and
    /// notified where it fires, in one transaction with the batch result
    /// and the run's totals. The same as [`BatchEvaluator::prepare_batch`]
    /// then [`BatchEvaluator::commit_batch`].
    ///
    /// # Errors
    /// [`EvaluationError::Store`], for example
    /// `Conflict("batch_results.batch_index")` when the run already has
    /// this batch (nothing is written then).
    pub fn evaluate_batch(&self, request: BatchRequest) -> Result<BatchReport, EvaluationError> {
        self.commit_batch(self.prepare_batch(request)?)
    }

    /// The reading half of a batch: loads its subjects, decides and renders
    /// every decision, and writes nothing. A run can prepare the next batch
    /// while the previous one commits: batches of a run are disjoint sets of
    /// mentors, and a decision only reads its own mentor's history (a
    /// dedupe key taken meanwhile is still caught when the batch commits).
    ///
    /// # Errors
    /// [`EvaluationError::Store`] when reading fails.
    pub fn prepare_batch(&self, request: BatchRequest) -> Result<PreparedBatch, EvaluationError> {
        let started = self.clock.now();
        let now = truncate_to_seconds(started);
        let mut seen = HashSet::with_capacity(request.user_ids.len());
        let user_ids: Vec<String> = request
            .user_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect();
        // Ids that cannot exist are unknown without asking storage (which
        // may refuse their bytes).
        let lookup: Vec<String> = user_ids
            .iter()
            .filter(|id| lookup_id(id))
            .cloned()
            .collect();
        let subjects = self.repo.load_subjects(&lookup)?;
        Ok(self.decide_all(started, now, request, user_ids, subjects))
    }

    /// [`prepare_batch`](Self::prepare_batch) for a planned batch of a run:
    /// the batch is the `active` mentors whose `user_id` lies in the key
    /// range `first..=last` as they are now, read with
    /// [`BatchRepository::load_active_subjects_between`] (five range reads
    /// on the diesel store instead of six queries, five of them `IN` lists).
    /// `request.user_ids` is ignored and becomes the ids found.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::rules::Rules;
    /// use scenario_engine::service::{
    ///     BatchEvaluator, BatchRequest, MentorRepository, MentorUpsert,
    /// };
    /// use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
    /// let store = Arc::new(InMemoryStore::default());
    /// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    /// let upsert = MentorUpsert { org_id: Some("org_oslo_01".into()), ..MentorUpsert::default() };
    /// for id in ["usr_a", "usr_b", "usr_c"] {
    ///     store.upsert_mentor(id, &upsert, now).unwrap();
    /// }
    /// let batches = BatchEvaluator::new(
    ///     store.clone(),
    ///     Arc::new(FixedClock::new(now)),
    ///     Arc::new(UlidIds::new()),
    ///     Rules::default(),
    /// );
    /// let prepared = batches
    ///     .prepare_planned_batch(BatchRequest::new("run_1", 0, Vec::new()), "usr_a", "usr_b")
    ///     .unwrap();
    /// assert_eq!(prepared.user_count(), 2);
    /// let report = batches.commit_batch(prepared).unwrap();
    /// assert_eq!(report.users_evaluated, 2);
    /// ```
    ///
    /// # Errors
    /// [`EvaluationError::Store`] when reading fails.
    pub fn prepare_planned_batch(
        &self,
        request: BatchRequest,
        first: &str,
        last: &str,
    ) -> Result<PreparedBatch, EvaluationError> {
        let started = self.clock.now();
        let now = truncate_to_seconds(started);
        let subjects = self.repo.load_active_subjects_between(first, last)?;
        let user_ids = subjects
            .iter()
            .map(|s| s.record.mentor.user_id.clone())
            .collect();
        Ok(self.decide_all(started, now, request, user_ids, subjects))
    }

    /// Decides and renders every subject of a batch: the shared second half
    /// of [`prepare_batch`](Self::prepare_batch) and
    /// [`prepare_planned_batch`](Self::prepare_planned_batch). `user_ids`:
    /// the ids asked for, each once.
    fn decide_all(
        &self,
        started: DateTime<Utc>,
        now: DateTime<Utc>,
        request: BatchRequest,
        user_ids: Vec<String>,
        mut subjects: Vec<Subject>,
    ) -> PreparedBatch {
        let mut entries = Vec::with_capacity(subjects.len() * 3);
        for subject in &mut subjects {
            self.decide(subject, &request, now, &mut entries);
        }
        let known: HashSet<String> = subjects
            .into_iter()
            .map(|s| s.record.mentor.user_id)
            .collect();
        let write = BatchWrite {
            run_id: request.run_id,
            batch_index: request.batch_index,
            users_evaluated: known.len() as i64,
            duration_ms: (self.clock.now() - started).num_milliseconds().max(0),
            entries,
            lease: None,
        };
        PreparedBatch {
            write,
            user_ids,
            known,
        }
    }

    /// The writing half of a batch: one transaction
    /// ([`BatchRepository::record_batch`]), then the report.
    ///
    /// # Errors
    /// [`EvaluationError::Store`], for example
    /// `Conflict("batch_results.batch_index")` when the run already has
    /// this batch (nothing is written then).
    pub fn commit_batch(&self, prepared: PreparedBatch) -> Result<BatchReport, EvaluationError> {
        let PreparedBatch {
            write,
            user_ids,
            known,
        } = prepared;
        let outcome = self.repo.record_batch(&write)?;

        let decisions = write.decisions(&outcome.key_taken(write.entries.len()));
        let mut by_user: HashMap<&str, Vec<usize>> = HashMap::with_capacity(known.len());
        for (i, d) in decisions.iter().enumerate() {
            by_user.entry(d.user_id).or_default().push(i);
        }
        let mut results = Vec::with_capacity(decisions.len() + user_ids.len() - known.len());
        for id in &user_ids {
            match by_user.get(id.as_str()) {
                Some(rows) => results.extend(rows.iter().map(|&i| {
                    let d = &decisions[i];
                    BatchUserResult {
                        user_id: id.clone(),
                        scenario_type: Some(d.scenario_type),
                        notified: d.notified,
                        reason_code: d.reason_code.as_str().to_owned(),
                    }
                })),
                None if known.contains(id) => {
                    // Known, but no scenario was asked for.
                }
                None => results.push(BatchUserResult {
                    user_id: id.clone(),
                    scenario_type: None,
                    notified: false,
                    reason_code: UNKNOWN_USER.to_owned(),
                }),
            }
        }
        Ok(BatchReport {
            run_id: write.run_id.clone(),
            batch_index: write.batch_index,
            users_evaluated: write.users_evaluated,
            notifications_sent: outcome.notifications_sent,
            duration_ms: write.duration_ms,
            results,
        })
    }

    /// The writing half of several batches of a run, for a caller that
    /// needs their totals and not their per-user results (a scheduled run):
    /// one transaction for all of them where the store can
    /// ([`BatchRepository::record_batches`]), so that they share the cost
    /// of a commit. Each batch stays all or nothing. If that write fails,
    /// each batch is written on its own, so that one failing batch (or one
    /// another process wrote meanwhile) does not take the others with it.
    /// One result per batch, in order.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::rules::Rules;
    /// use scenario_engine::service::{
    ///     BatchEvaluator, BatchRequest, MentorRepository, MentorUpsert,
    /// };
    /// use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
    /// let store = Arc::new(InMemoryStore::default());
    /// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    /// let upsert = MentorUpsert { org_id: Some("org_oslo_01".into()), ..MentorUpsert::default() };
    /// store.upsert_mentor("usr_mentor_7821", &upsert, now).unwrap();
    /// let batches = BatchEvaluator::new(
    ///     store.clone(),
    ///     Arc::new(FixedClock::new(now)),
    ///     Arc::new(UlidIds::new()),
    ///     Rules::default(),
    /// );
    /// let prepare = |index, ids: &[&str]| {
    ///     let ids = ids.iter().map(|id| id.to_string()).collect();
    ///     batches.prepare_batch(BatchRequest::new("run_1", index, ids)).unwrap()
    /// };
    /// let group = vec![prepare(0, &["usr_mentor_7821"]), prepare(1, &["usr_gone"])];
    /// let group: Vec<_> = group.into_iter().map(|p| p.into_write()).collect();
    /// let totals: Vec<_> = batches.commit_batches(&group).into_iter().map(Result::unwrap).collect();
    /// assert_eq!((totals[0].batch_index, totals[0].users_evaluated), (0, 1));
    /// assert_eq!((totals[1].batch_index, totals[1].users_evaluated), (1, 0));
    /// // Batch 1 again: the run has it already.
    /// let again = prepare(1, &["usr_mentor_7821"]).into_write();
    /// assert!(batches.commit_batches(&[again])[0].is_err());
    /// ```
    ///
    /// The batches are borrowed, so that the caller can free them where it
    /// likes: a served run hands them back to the thread that allocated
    /// them (freeing a batch was 6% of the committing thread's work).
    pub fn commit_batches(
        &self,
        writes: &[BatchWrite],
    ) -> Vec<Result<BatchTotals, EvaluationError>> {
        let totals = |w: &BatchWrite, o: BatchOutcome| BatchTotals {
            batch_index: w.batch_index,
            users_evaluated: w.users_evaluated,
            notifications_sent: o.notifications_sent,
        };
        match self.repo.record_batches(writes) {
            Ok(outcomes) => writes
                .iter()
                .zip(outcomes)
                .map(|(w, o)| Ok(totals(w, o)))
                .collect(),
            Err(e) if writes.len() == 1 => vec![Err(e.into())],
            Err(_) => writes
                .iter()
                .map(|w| Ok(totals(w, self.repo.record_batch(w)?)))
                .collect(),
        }
    }

    /// Decides every scenario for one mentor, in order, recording each
    /// decision that fires in the mentor's in-memory history so that the
    /// next decisions see it (see the type's documentation).
    ///
    /// One entry is kept per scenario type (docs/runs.md, "Scenario-evaluation
    /// runs"): every decision that fires, or else the most telling one
    /// ([`rank`]; the first of equals), so the four milestone types make
    /// one evaluation unless more than one fires. Only kept decisions are
    /// rendered. A decision that does not fire changes no history, so the
    /// kept one is decided again after the others and comes out the same.
    fn decide(
        &self,
        subject: &mut Subject,
        request: &BatchRequest,
        now: DateTime<Utc>,
        entries: &mut Vec<BatchEntry>,
    ) {
        // Per scenario type: the entries kept, the best decision that did
        // not fire (rank, index into `request.scenarios`), the milestones seen.
        #[derive(Default)]
        struct Group {
            kept: Vec<BatchEntry>,
            best_quiet: Option<(u8, usize)>,
            milestones_seen: Vec<(MilestoneType, DateTime<Utc>)>,
        }
        let mut groups: [Group; 3] = Default::default();
        let mut order: Vec<ScenarioType> = Vec::with_capacity(3);
        for (i, scenario) in request.scenarios.iter().enumerate() {
            let t = scenario.scenario_type();
            if !order.contains(&t) {
                order.push(t);
            }
            let (fired, achieved) = {
                let decision = evaluate(&snapshot(subject), scenario, &self.rules, now);
                let achieved = newly_achieved(&decision.metadata);
                let group = &mut groups[t.index()];
                if let Some(seen) = achieved.filter(|_| !request.dry_run) {
                    group.milestones_seen.push(seen);
                }
                let fired = if decision.should_notify {
                    let (entry, fired) = self.entry(subject, request, &decision, now);
                    group.kept.push(entry);
                    fired
                } else {
                    let r = rank(decision.reason_code);
                    if group.best_quiet.is_none_or(|(best, _)| r < best) {
                        group.best_quiet = Some((r, i));
                    }
                    None
                };
                (fired, achieved)
            };
            if let Some(key) = fired {
                subject.history.record_rendered(t, key, now);
            }
            if let Some((m, at)) = achieved {
                subject.milestones_achieved_at[m.index()] = Some(at);
            }
        }
        for t in order {
            let group = std::mem::take(&mut groups[t.index()]);
            let mut kept = group.kept;
            if kept.is_empty()
                && let Some((_, i)) = group.best_quiet
            {
                let decision =
                    evaluate(&snapshot(subject), &request.scenarios[i], &self.rules, now);
                kept.push(self.entry(subject, request, &decision, now).0);
            }
            if let Some(first) = kept.first_mut() {
                first.milestones_seen = group.milestones_seen;
            }
            entries.extend(kept);
        }
    }

    /// Renders one kept decision, and the dedupe key it takes when it fires
    /// (in a dry run too: it follows the same rule and enqueues nothing).
    fn entry(
        &self,
        subject: &Subject,
        request: &BatchRequest,
        decision: &Decision<'_>,
        now: DateTime<Utc>,
    ) -> (BatchEntry, Option<String>) {
        let m = &subject.record.mentor;
        let target = Target {
            user_id: &m.user_id,
            org_id: &m.org_id,
            run_id: Some(&request.run_id),
            batch_index: Some(request.batch_index),
            dry_run: request.dry_run,
        };
        let Rendered {
            record,
            notification,
            milestone_seen: _,
        } = render(&*self.ids, &target, decision, now);
        let fired = match (&notification, decision.should_notify, decision.dedupe_key) {
            (Some(n), _, _) => Some(n.dedupe_key.clone()),
            (None, true, Some(key)) => Some(key.render(&m.user_id)),
            _ => None,
        };
        let enqueue = notification.map(|notification| {
            Enqueue::new(notification, already_notified(*decision).reason_sentence())
        });
        let entry = BatchEntry::new(record, enqueue);
        (entry, fired)
    }
}

/// The milestone a decision saw reached for the first time, and when.
fn newly_achieved(metadata: &Metadata<'_>) -> Option<(MilestoneType, DateTime<Utc>)> {
    match *metadata {
        Metadata::Milestone {
            milestone_type,
            achieved_at: Some(at),
            newly_achieved: true,
            ..
        } => Some((milestone_type, at)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
