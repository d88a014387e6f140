//! `Outbox` on diesel: claiming due notifications for the delivery worker,
//! writing a batch of attempt outcomes, and the notifications API's reads
//! and retries.
//!
//! A claim is one short write transaction: on PostgreSQL the due rows are
//! selected `FOR UPDATE SKIP LOCKED`, so concurrent workers of several
//! instances take disjoint rows without waiting on each other; on SQLite
//! `BEGIN IMMEDIATE` ([`write_tx`]) already serialises claimers. The claim
//! itself is `next_attempt_at` pushed to the claim's end, so a claimed row
//! is not due for anyone else until the claim lapses, and `attempts` is
//! counted before the attempt is made; together they fence the outcome
//! write, so a worker whose claim lapsed and was taken over changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use scenario_engine::rules::ScenarioType;
use scenario_engine::service::{
    CLAIM_LAPSED_ERROR, Claim, ClaimRequest, Delivery, NOTIFICATION_ID_PREFIX, Notification,
    NotificationFilter, NotificationStatus, Outbox, Outcome, PageRequest, Paged, Requeue, Settled,
    StoreError, id_bounds_at,
};

use crate::Store;
use crate::conn::{AnyConnection, MultiBackend, per_backend, write_tx};
use crate::convert::{from_millis, opt_from_millis, stored_json, to_millis};
use crate::error::StorageError;
use crate::evaluations::{LEGACY_ID_LAG, NotificationRow};
use crate::pages::newest_first_page;
use crate::schema::notifications;
use crate::totals::Counted;

const PENDING: &str = NotificationStatus::Pending.as_str();
const FAILED: &str = NotificationStatus::Failed.as_str();
const DELIVERED: &str = NotificationStatus::Delivered.as_str();
const CANCELLED: &str = NotificationStatus::Cancelled.as_str();

/// Ids per `IN (...)` list of one outcome statement (the worker claims at
/// most 500 at once).
const IDS_PER_STATEMENT: usize = 1000;

impl NotificationRow {
    fn into_notification(self) -> Result<Notification, StorageError> {
        Ok(Notification {
            scenario_type: ScenarioType::parse(&self.scenario_type)
                .map_err(|_| StorageError::Corrupt("notifications.scenario_type"))?,
            payload: stored_json(self.payload)?,
            status: NotificationStatus::parse(&self.status)
                .map_err(|_| StorageError::Corrupt("notifications.status"))?,
            attempts: u32::try_from(self.attempts)
                .map_err(|_| StorageError::Corrupt("notifications.attempts"))?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            next_attempt_at: opt_from_millis(self.next_attempt_at)?,
            delivered_at: opt_from_millis(self.delivered_at)?,
            id: self.id,
            user_id: self.user_id,
            org_id: self.org_id,
            dedupe_key: self.dedupe_key,
            last_error: self.last_error,
            run_id: self.run_id,
            evaluation_id: self.evaluation_id,
        })
    }
}

fn load_by_ids(c: &mut AnyConnection, ids: &[String]) -> Result<Vec<Notification>, StorageError> {
    let rows: Vec<NotificationRow> = notifications::table
        .filter(notifications::id.eq_any(ids))
        .select(NotificationRow::as_select())
        .load(c)?;
    rows.into_iter()
        .map(NotificationRow::into_notification)
        .collect()
}

/// `(id, attempts)` of the due rows, locked against other claimers until
/// the transaction ends (PostgreSQL: rows locked by another claimer are
/// skipped, not waited for; SQLite: the transaction holds the write lock).
fn lock_due(
    c: &mut AnyConnection,
    request: &ClaimRequest,
) -> Result<Vec<(String, i32)>, StorageError> {
    let now = to_millis(request.now);
    let limit = i64::from(request.limit);
    macro_rules! due {
        () => {
            notifications::table
                .filter(notifications::status.eq(PENDING))
                .filter(notifications::next_attempt_at.le(now))
                .order((
                    notifications::next_attempt_at.asc(),
                    notifications::id.asc(),
                ))
                .limit(limit)
                .select((notifications::id, notifications::attempts))
        };
    }
    Ok(match c {
        AnyConnection::Postgres(pg) => due!().for_update().skip_locked().load(pg)?,
        AnyConnection::Sqlite(lite) => due!().load(lite)?,
    })
}

fn claim(c: &mut AnyConnection, request: &ClaimRequest) -> Result<Vec<Delivery>, StorageError> {
    let due = lock_due(c, request)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let max = i64::from(request.max_attempts);
    let (exhausted, claimable): (Vec<_>, Vec<_>) =
        due.into_iter().partition(|(_, a)| i64::from(*a) >= max);
    let now = to_millis(request.now);
    if !exhausted.is_empty() {
        let ids: Vec<&str> = exhausted.iter().map(|(id, _)| id.as_str()).collect();
        diesel::update(notifications::table.filter(notifications::id.eq_any(&ids)))
            .set((
                notifications::status.eq(FAILED),
                notifications::next_attempt_at.eq(None::<i64>),
                notifications::last_error.eq(CLAIM_LAPSED_ERROR),
                notifications::updated_at.eq(now),
            ))
            .execute(c)?;
    }
    if claimable.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = claimable.into_iter().map(|(id, _)| id).collect();
    let until = to_millis(request.until);
    diesel::update(notifications::table.filter(notifications::id.eq_any(&ids)))
        .set((
            notifications::attempts.eq(notifications::attempts + 1),
            notifications::next_attempt_at.eq(Some(until)),
            notifications::updated_at.eq(now),
        ))
        .execute(c)?;
    let mut by_id: std::collections::HashMap<String, Notification> = load_by_ids(c, &ids)?
        .into_iter()
        .map(|n| (n.id.clone(), n))
        .collect();
    // In the order they were due.
    let claimed = ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|n| Delivery {
            claim: Claim {
                id: n.id.clone(),
                attempt: n.attempts,
                until: request.until,
            },
            notification: n,
        })
        .collect();
    Ok(claimed)
}

/// Marks `ids`, delivered under claims of `attempt` lapsing at `until`,
/// `delivered` where their claim still holds; how many it did.
fn settle_delivered(
    c: &mut AnyConnection,
    ids: &[&str],
    attempt: u32,
    until: DateTime<Utc>,
    now: i64,
) -> Result<u64, StorageError> {
    let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
    let mut written = 0;
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let held = notifications::table
            .filter(notifications::id.eq_any(chunk))
            .filter(notifications::status.eq(PENDING))
            .filter(notifications::attempts.eq(attempt))
            .filter(notifications::next_attempt_at.eq(to_millis(until)));
        let n = diesel::update(held)
            .set((
                notifications::status.eq(DELIVERED),
                notifications::delivered_at.eq(Some(now)),
                notifications::next_attempt_at.eq(None::<i64>),
                notifications::last_error.eq(None::<&str>),
                notifications::updated_at.eq(now),
            ))
            .execute(c)?;
        written += n as u64;
    }
    Ok(written)
}

/// Writes one outcome where its claim still holds; whether it did.
fn settle(c: &mut AnyConnection, s: &Settled, now: i64) -> Result<bool, StorageError> {
    let attempt = i32::try_from(s.claim.attempt).unwrap_or(i32::MAX);
    let held = notifications::table
        .filter(notifications::id.eq(&s.claim.id))
        .filter(notifications::status.eq(PENDING))
        .filter(notifications::attempts.eq(attempt))
        .filter(notifications::next_attempt_at.eq(to_millis(s.claim.until)));
    let n = match &s.outcome {
        Outcome::Delivered => {
            let ids = [s.claim.id.as_str()];
            return Ok(settle_delivered(c, &ids, s.claim.attempt, s.claim.until, now)? > 0);
        }
        Outcome::Retry { at, error } => diesel::update(held)
            .set((
                notifications::next_attempt_at.eq(Some(to_millis(*at))),
                notifications::last_error.eq(Some(error.as_str())),
                notifications::updated_at.eq(now),
            ))
            .execute(c)?,
        Outcome::Failed { error } => diesel::update(held)
            .set((
                notifications::status.eq(FAILED),
                notifications::next_attempt_at.eq(None::<i64>),
                notifications::last_error.eq(Some(error.as_str())),
                notifications::updated_at.eq(now),
            ))
            .execute(c)?,
    };
    Ok(n > 0)
}

fn filtered(f: &NotificationFilter) -> notifications::BoxedQuery<'_, MultiBackend> {
    let mut q = notifications::table.into_boxed();
    if let Some(u) = &f.user_id {
        q = q.filter(notifications::user_id.eq(u));
    }
    if let Some(s) = f.scenario_type {
        q = q.filter(notifications::scenario_type.eq(s.as_str()));
    }
    if let Some(s) = f.status {
        q = q.filter(notifications::status.eq(s.as_str()));
    }
    if let Some(r) = &f.run_id {
        q = q.filter(notifications::run_id.eq(r));
    }
    q
}

fn get(c: &mut AnyConnection, id: &str) -> Result<Option<Notification>, StorageError> {
    // On the concrete connection, so that the statement comes from the
    // cache as it is.
    let row = per_backend!(c, |c| notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first::<NotificationRow>(c)
        .optional())?;
    row.map(NotificationRow::into_notification).transpose()
}

impl Outbox for Store {
    fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<Delivery>, StoreError> {
        if request.limit == 0 {
            return Ok(Vec::new());
        }
        self.write(|c| claim(c, request)).map_err(StoreError::from)
    }

    fn record_outcomes(&self, settled: &[Settled], now: DateTime<Utc>) -> Result<u64, StoreError> {
        if settled.is_empty() {
            return Ok(0);
        }
        let now = to_millis(now);
        // One transaction for the whole batch: SQLite has one writer, and a
        // write transaction per notification would hold it far longer.
        // Deliveries, nearly every outcome, share their fence (attempt and
        // claim end) across a claim: they are written a statement per
        // fence, the rest a statement each.
        self.write(|c| -> Result<u64, StorageError> {
            let mut written = 0;
            let mut delivered: BTreeMap<(u32, DateTime<Utc>), Vec<&str>> = BTreeMap::new();
            for s in settled {
                match s.outcome {
                    Outcome::Delivered => delivered
                        .entry((s.claim.attempt, s.claim.until))
                        .or_default()
                        .push(&s.claim.id),
                    _ => written += u64::from(settle(c, s, now)?),
                }
            }
            for ((attempt, until), ids) in delivered {
                written += settle_delivered(c, &ids, attempt, until, now)?;
            }
            Ok(written)
        })
        .map_err(StoreError::from)
    }

    fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.with_conn(|c| {
            // Served by notifications_status_due (status, next_attempt_at, id).
            let next: Option<Option<i64>> = notifications::table
                .filter(notifications::status.eq(PENDING))
                .filter(notifications::next_attempt_at.is_not_null())
                .order(notifications::next_attempt_at.asc())
                .select(notifications::next_attempt_at)
                .first(c)
                .optional()?;
            opt_from_millis(next.flatten())
        })
    }

    fn get_notification(&self, id: &str) -> Result<Option<Notification>, StoreError> {
        self.with_conn(|c| get(c, id))
    }

    fn list_notifications(
        &self,
        filter: &NotificationFilter,
        page: PageRequest,
    ) -> Result<Paged<Notification>, StoreError> {
        self.with_conn(|c| {
            let (total, rows) = newest_first_page!(
                c,
                notifications,
                NotificationRow,
                Counted::Notifications,
                filter,
                filtered,
                page
            );
            Ok(Paged {
                rows: rows
                    .into_iter()
                    .map(NotificationRow::into_notification)
                    .collect::<Result<_, _>>()?,
                total,
            })
        })
    }

    fn requeue_failed(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Requeue>, StoreError> {
        let now = to_millis(now);
        self.with_conn(|conn| {
            write_tx(conn, |c| {
                // The status check and the change are one guarded statement.
                let changed = diesel::update(
                    notifications::table
                        .filter(notifications::id.eq(id))
                        .filter(notifications::status.eq(FAILED)),
                )
                .set((
                    notifications::status.eq(PENDING),
                    notifications::attempts.eq(0),
                    notifications::next_attempt_at.eq(Some(now)),
                    notifications::updated_at.eq(now),
                ))
                .execute(c)?;
                Ok(get(c, id)?.map(|n| {
                    if changed > 0 {
                        Requeue::Requeued(n)
                    } else {
                        Requeue::NotFailed(n)
                    }
                }))
            })
        })
    }

    fn prune_settled_before(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        // One chunk, read off (status, id): ids carry their instant, and the
        // instant is kept for exactness. notification_keys is not touched.
        let n = self
            .write(|c| -> Result<usize, StorageError> {
                let chunk = notifications::table
                    .filter(notifications::status.eq_any([DELIVERED, CANCELLED]))
                    .filter(
                        notifications::id.lt(id_bounds_at(
                            NOTIFICATION_ID_PREFIX,
                            before + LEGACY_ID_LAG,
                        )
                        .0),
                    )
                    .filter(notifications::created_at.lt(to_millis(before)))
                    .select(notifications::id)
                    .limit(i64::from(limit))
                    .load::<String>(c)?;
                Ok(
                    diesel::delete(notifications::table.filter(notifications::id.eq_any(&chunk)))
                        .execute(c)?,
                )
            })
            .map_err(StoreError::from)?;
        Ok(n as u64)
    }
}
