//! `BatchRepository` on diesel: a scenario-evaluation batch read in a fixed
//! number of queries and written in one transaction of multi-row inserts,
//! and the bulk insert of mentors.
//!
//! Multi-row `INSERT`s do not compile through `MultiBackend`, so they go
//! through [`per_backend!`]; their size is `BATCH_ROWS`, which keeps a statement under SQLite's 32,766 bound parameters.

mod load;
mod write_rows;

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use scenario_engine::rules::MentorStatus;
use scenario_engine::service::{
    BatchOutcome, BatchRepository, BatchWrite, LeaseFence, MentorRecord, StoreError, Subject,
};

use crate::Store;
use crate::conn::{AnyConnection, per_backend, write_tx};
use crate::convert::to_millis;
use crate::error::StorageError;
use crate::links::hold_mentors;
use crate::mentor_rows::{CertificationRow, MentorRow};
use crate::rows::{InsertRow, Rows};
use crate::schema::{batch_results, certifications, evaluations, mentors, notifications, runs};

use load::{IDS_PER_QUERY, load_chunk, load_range};
use write_rows::{
    EvaluationInsert, KeyInsert, MilestoneInsert, NotificationCopy, NotificationInsert,
};

/// Rows per multi-row `INSERT` of `insert_chunked!` (the bulk insert of
/// mentors and certifications). The widest row written in chunks (a
/// mentor, 15 columns) then binds 15,000 parameters, well under SQLite's
/// 32,766 and PostgreSQL's 65,535. A batch's tables go through
/// [`for_each_shape!`].
pub(crate) const BATCH_ROWS: usize = 1000;

/// Columns of the widest chunked row (`mentors`).
const WIDEST_ROW: usize = 15;
const _: () = assert!(
    BATCH_ROWS * WIDEST_ROW <= 32_766,
    "BATCH_ROWS breaks SQLite's bind limit"
);

/// Inserts `rows` into `table` in statements of `BATCH_ROWS` rows.
macro_rules! insert_chunked {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(BATCH_ROWS) {
            per_backend!(&mut *$conn, |c| diesel::insert_into($table)
                .values(chunk)
                .execute(c))?;
        }
    };
}

/// Runs `body` on `rows` in pieces of fixed sizes (64, 32, 16, 8, 4, 2
/// and 1 rows), each bound to `head` as an array, so that every statement
/// a batch runs is one of seven shapes per table, prepared once per
/// connection and then taken from diesel's statement cache. A multi-row
/// statement of any other length is parsed and planned anew each time
/// (diesel cannot cache it): that was 11% of a run's CPU time.
macro_rules! for_each_shape {
    ($rows:expr, |$head:ident| $body:expr) => {{
        let mut rest = &$rows[..];
        macro_rules! shape {
            ($n:literal) => {
                while rest.len() >= $n {
                    let (h, tail) = rest.split_at($n);
                    let $head: &[_; $n] = h.try_into().expect("split at the array length");
                    $body;
                    rest = tail;
                }
            };
        }
        shape!(64);
        shape!(32);
        shape!(16);
        shape!(8);
        shape!(4);
        shape!(2);
        shape!(1);
    }};
}

/// Inserts `rows` in [`for_each_shape!`] statements, each of rows that
/// share their shared values ([`InsertRow::shares_with`]; a batch's rows
/// all do).
macro_rules! insert_cached {
    ($conn:expr, $rows:expr) => {
        for run in $rows.chunk_by(|a, b| a.shares_with(b)) {
            for_each_shape!(run, |head| per_backend!(&mut *$conn, |c| Rows(head)
                .execute(c))?)
        }
    };
}

/// Takes the dedupe keys of the batch's notifications and says, per entry,
/// whether its key was taken already (by anyone before, or by an earlier
/// entry of this batch).
fn claim_keys(c: &mut AnyConnection, batch: &BatchWrite) -> Result<Vec<bool>, StorageError> {
    let mut taken = vec![false; batch.entries.len()];
    let mut in_batch = HashSet::new();
    // The entry index of the first entry with each key, and its key row.
    let mut first = Vec::new();
    let mut rows = Vec::new();
    for (i, entry) in batch.entries.iter().enumerate() {
        let Some(q) = &entry.enqueue else { continue };
        let n = &q.notification;
        if in_batch.insert(n.dedupe_key.as_str()) {
            first.push(i);
            rows.push(KeyInsert {
                dedupe_key: &n.dedupe_key,
                user_id: &n.user_id,
                created_at: to_millis(n.created_at),
            });
        } else {
            taken[i] = true;
        }
    }
    if rows.is_empty() {
        return Ok(taken);
    }
    let mut ours: HashSet<String> = HashSet::with_capacity(rows.len());
    for run in rows.chunk_by(|a, b| a.shares_with(b)) {
        for_each_shape!(run, |head| {
            let inserted: Vec<String> = per_backend!(&mut *c, |c| Rows(head).load(c))?;
            ours.extend(inserted);
        });
    }
    for (i, k) in first.iter().zip(&rows) {
        if !ours.contains(k.dedupe_key) {
            taken[*i] = true;
        }
    }
    Ok(taken)
}

fn write_batch(c: &mut AnyConnection, batch: &BatchWrite) -> Result<BatchOutcome, StorageError> {
    // First, so that a second writer of the same batch fails (or, on
    // PostgreSQL, waits) before doing any work.
    diesel::insert_into(batch_results::table)
        .values((
            batch_results::run_id.eq(&batch.run_id),
            batch_results::batch_index.eq(batch.batch_index),
            batch_results::user_count.eq(batch.users_evaluated),
            batch_results::notifications_sent.eq(0_i64),
            batch_results::duration_ms.eq(batch.duration_ms),
        ))
        .execute(c)?;

    // The mentors of its evaluations, keys and notifications, checked and
    // held in one statement (their foreign keys are gone on PostgreSQL:
    // `links.rs`).
    let users = batch.entries.iter().flat_map(|e| {
        let notified = e.enqueue.as_ref().map(|q| q.notification.user_id.as_str());
        std::iter::once(e.evaluation.user_id.as_str()).chain(notified)
    });
    hold_mentors(c, users)?;
    let taken = claim_keys(c, batch)?;
    let mut outcome = BatchOutcome::default();
    let mut evaluation_rows = Vec::with_capacity(batch.entries.len());
    let mut notification_rows = Vec::new();
    let mut milestone_rows = Vec::new();
    let mut milestones_seen = HashSet::new();
    for (i, (entry, &key_taken)) in batch.entries.iter().zip(&taken).enumerate() {
        let e = &entry.evaluation;
        let stored = entry.stored(key_taken);
        evaluation_rows.push(EvaluationInsert {
            id: &e.id,
            user_id: &e.user_id,
            scenario_type: e.scenario_type.as_str(),
            should_notify: stored.should_notify,
            evaluated_at: to_millis(e.evaluated_at),
            evaluation_metadata: entry.evaluation.evaluation_metadata.as_str(),
            reason: stored.reason,
            reason_code: stored.reason_code.as_str(),
            run_id: e.run_id.as_deref(),
            dry_run: e.dry_run,
            batch_index: Some(batch.batch_index),
        });
        if key_taken {
            outcome.already_notified.push(i);
        } else if let Some(q) = &entry.enqueue {
            let n = &q.notification;
            let at = to_millis(n.created_at);
            notification_rows.push(NotificationInsert {
                id: &n.id,
                user_id: &n.user_id,
                org_id: &n.org_id,
                scenario_type: n.scenario_type.as_str(),
                dedupe_key: &n.dedupe_key,
                payload: &q.payload_json,
                created_at: at,
                run_id: n.run_id.as_deref(),
                evaluation_id: n.evaluation_id.as_deref(),
            });
        }
        for &(t, at) in &entry.milestones_seen {
            if milestones_seen.insert((e.user_id.as_str(), t)) {
                milestone_rows.push(MilestoneInsert {
                    user_id: &e.user_id,
                    milestone_type: t.as_str(),
                    achieved_at: to_millis(at),
                });
            }
        }
    }
    outcome.notifications_sent = notification_rows.len() as i64;

    copy_rows(c, &evaluation_rows, &notification_rows)?;
    insert_cached!(c, milestone_rows);

    // diesel prepares an UPDATE anew each time (it never caches one);
    // these two are short.
    if outcome.notifications_sent > 0 {
        diesel::update(batch_results::table.find((&batch.run_id, batch.batch_index)))
            .set(batch_results::notifications_sent.eq(outcome.notifications_sent))
            .execute(c)?;
    }
    Ok(outcome)
}

/// Writes a batch's evaluations and notifications (neither can conflict:
/// their ids are new and [`claim_keys`] took their dedupe keys). On
/// PostgreSQL each table gets one binary `COPY`: multi-row `INSERT`s cost
/// the server about four times as much per row (300,000 evaluation rows,
/// one statement per batch: 13.8 s against 3.6 s; docs/benchmarks.md).
/// On SQLite, cached multi-row `INSERT`s.
fn copy_rows(
    c: &mut AnyConnection,
    evaluation_rows: &[EvaluationInsert<'_>],
    notification_rows: &[NotificationInsert<'_>],
) -> Result<(), StorageError> {
    match c {
        AnyConnection::Postgres(pg) => {
            if !evaluation_rows.is_empty() {
                diesel::copy_from(evaluations::table)
                    .from_insertable(evaluation_rows)
                    .execute(pg)?;
            }
            if !notification_rows.is_empty() {
                let rows: Vec<NotificationCopy<'_>> = notification_rows
                    .iter()
                    .map(NotificationCopy::from)
                    .collect();
                diesel::copy_from(notifications::table)
                    .from_insertable(&rows)
                    .execute(pg)?;
            }
        }
        AnyConnection::Sqlite(_) => {
            insert_cached!(c, evaluation_rows);
            insert_cached!(c, notification_rows);
        }
    }
    Ok(())
}

/// Writes `batches` in order ([`write_batch`]), then adds what they
/// evaluated and enqueued to their runs' totals: one `UPDATE` per run.
fn write_batches(
    c: &mut AnyConnection,
    batches: &[BatchWrite],
) -> Result<Vec<BatchOutcome>, StorageError> {
    let mut outcomes = Vec::with_capacity(batches.len());
    // (run, its lease, users evaluated, notifications enqueued), in order
    // of first appearance.
    let mut totals: Vec<(&str, Option<&LeaseFence>, i64, i64)> = Vec::new();
    for batch in batches {
        let outcome = write_batch(c, batch)?;
        match totals.iter_mut().find(|t| t.0 == batch.run_id) {
            Some(t) => {
                t.2 += batch.users_evaluated;
                t.3 += outcome.notifications_sent;
            }
            None => totals.push((
                &batch.run_id,
                batch.lease.as_ref(),
                batch.users_evaluated,
                outcome.notifications_sent,
            )),
        }
        outcomes.push(outcome);
    }
    for (run_id, lease, users, sent) in totals {
        let totals = (
            runs::users_evaluated.eq(runs::users_evaluated + users),
            runs::notifications_dispatched.eq(runs::notifications_dispatched + sent),
        );
        let Some(lease) = lease else {
            diesel::update(runs::table.find(run_id))
                .set(totals)
                .execute(c)?;
            continue;
        };
        // Fencing: the totals are written only under the lease the batch
        // was prepared under; otherwise the whole transaction rolls back.
        let n = diesel::update(
            runs::table
                .find(run_id)
                .filter(runs::lease_owner.eq(&lease.owner))
                .filter(runs::lease_epoch.eq(lease.epoch)),
        )
        .set(totals)
        .execute(c)?;
        if n == 0 {
            return Err(StorageError::LeaseLost);
        }
    }
    Ok(outcomes)
}

impl BatchRepository for Store {
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, StoreError> {
        let mut seen = HashSet::with_capacity(user_ids.len());
        let ids: Vec<&str> = user_ids
            .iter()
            .map(String::as_str)
            .filter(|id| seen.insert(*id))
            .collect();
        let mut found = HashMap::with_capacity(ids.len());
        self.with_conn::<_, StoreError>(|conn| {
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let subjects = load_chunk(conn, chunk)?.into_subjects()?;
                found.extend(
                    subjects
                        .into_iter()
                        .map(|s| (s.record.mentor.user_id.clone(), s)),
                );
            }
            Ok(())
        })?;
        Ok(ids.iter().filter_map(|id| found.remove(*id)).collect())
    }

    fn load_active_subjects_between(
        &self,
        first: &str,
        last: &str,
    ) -> Result<Vec<Subject>, StoreError> {
        self.with_conn(|conn| load_range(conn, first, last)?.into_subjects())
    }

    fn record_batch(&self, batch: &BatchWrite) -> Result<BatchOutcome, StoreError> {
        let mut outcomes = self.record_batches(std::slice::from_ref(batch))?;
        Ok(outcomes.pop().unwrap_or_default())
    }

    /// All of `batches` in one transaction, all or nothing.
    fn record_batches(&self, batches: &[BatchWrite]) -> Result<Vec<BatchOutcome>, StoreError> {
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = self
            .write(|c| write_batches(c, batches))
            .map_err(StoreError::from)?;
        self.large_write_committed();
        Ok(outcomes)
    }

    fn active_user_ids_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        // Two fixed shapes, so both stay in the statement cache; the
        // (status, user_id) index serves them.
        let active = mentors::table
            .filter(mentors::status.eq(MentorStatus::Active.as_str()))
            .order(mentors::user_id.asc())
            .select(mentors::user_id)
            .limit(i64::from(limit));
        self.with_conn(|conn| {
            Ok(match after {
                Some(a) => active.filter(mentors::user_id.gt(a)).load(conn),
                None => active.load(conn),
            }?)
        })
    }

    fn active_user_ids_between(&self, first: &str, last: &str) -> Result<Vec<String>, StoreError> {
        self.with_conn(|conn| {
            Ok(mentors::table
                .filter(mentors::status.eq(MentorStatus::Active.as_str()))
                .filter(mentors::user_id.ge(first))
                .filter(mentors::user_id.le(last))
                .order(mentors::user_id.asc())
                .select(mentors::user_id)
                .load(conn)?)
        })
    }
}

impl Store {
    /// Inserts new mentors with their certifications and preferences in
    /// one transaction of multi-row inserts: the fast path for demo data
    /// and benchmarks (a plain insert: this never updates a mentor).
    ///
    /// Each record is stored as given (status, pause, counts, timestamps,
    /// preferences); recorded milestones and notification history start
    /// empty. The records are consumed `BATCH_ROWS` at a time, so a lazy
    /// iterator (such as [`scenario_engine::adapters::demo_mentors`]) is never held
    /// whole in memory. Returns how many mentors were inserted.
    ///
    /// # Errors
    /// [`StoreError::Conflict`]`("mentors.user_id")` when a `user_id` exists
    /// already (or appears twice), writing nothing; [`StoreError::Backend`]
    /// when storage fails.
    pub fn bulk_insert_mentors(
        &self,
        records: impl IntoIterator<Item = MentorRecord>,
    ) -> Result<u64, StoreError> {
        let mut records = records.into_iter();
        let mut conn = self.conn()?;
        let n = write_tx(&mut conn, |c| -> Result<_, StorageError> {
            let mut inserted = 0_u64;
            loop {
                let chunk: Vec<MentorRecord> = records.by_ref().take(BATCH_ROWS).collect();
                if chunk.is_empty() {
                    return Ok(inserted);
                }
                let mentor_rows: Vec<MentorRow> = chunk.iter().map(MentorRow::of).collect();
                let cert_rows: Vec<CertificationRow> = chunk
                    .iter()
                    .flat_map(|r| {
                        r.certifications.iter().map(|cert| {
                            CertificationRow::of(&r.mentor.user_id, cert, r.mentor.updated_at)
                        })
                    })
                    .collect();
                insert_chunked!(c, mentors::table, mentor_rows);
                insert_chunked!(c, certifications::table, cert_rows);
                inserted += chunk.len() as u64;
            }
        })
        .map_err(StoreError::from)?;
        self.large_write_committed();
        Ok(n)
    }
}
