//! `EvaluationRepository` on diesel: evaluations, the outbox and dedupe keys.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use scenario_engine::rules::{MilestoneType, OwnedHistory, ReasonCode, ScenarioType};
use scenario_engine::service::{
    EVALUATION_ID_PREFIX, EvaluationFilter, EvaluationOverride, EvaluationRecord,
    EvaluationRepository, MaybeMentor, NewNotification, NotificationStatus, PageRequest, Paged,
    StoreError, Subject, id_bounds_at,
};

use crate::Store;
use crate::conn::{AnyConnection, MultiBackend, per_backend, write_tx};
use crate::convert::{from_millis, stored_json, to_json_text, to_millis};
use crate::error::StorageError;
use crate::links::{hold_mentors, unlink_notifications};
use crate::mentor_rows::load_record;
use crate::mentors::record_milestone;
use crate::pages::newest_first_page;
use crate::schema::{evaluations, mentor_milestones, notification_keys, notifications};
use crate::totals::Counted;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = evaluations)]
pub(crate) struct EvaluationRow {
    pub id: String,
    pub user_id: String,
    pub scenario_type: String,
    pub should_notify: bool,
    pub evaluated_at: i64,
    pub evaluation_metadata: String,
    pub reason: String,
    pub reason_code: String,
    pub run_id: Option<String>,
    pub dry_run: bool,
    pub batch_index: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub(crate) struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub org_id: String,
    pub scenario_type: String,
    pub dedupe_key: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub run_id: Option<String>,
    pub evaluation_id: Option<String>,
}

impl EvaluationRow {
    pub(crate) fn of(e: &EvaluationRecord) -> Self {
        Self {
            id: e.id.clone(),
            user_id: e.user_id.clone(),
            scenario_type: e.scenario_type.as_str().to_owned(),
            should_notify: e.should_notify,
            evaluated_at: to_millis(e.evaluated_at),
            evaluation_metadata: e.evaluation_metadata.as_str().to_owned(),
            reason: e.reason.clone(),
            reason_code: e.reason_code.as_str().to_owned(),
            run_id: e.run_id.clone(),
            dry_run: e.dry_run,
            batch_index: e.batch_index,
        }
    }

    pub(crate) fn into_record(self) -> Result<EvaluationRecord, StorageError> {
        Ok(EvaluationRecord {
            scenario_type: ScenarioType::parse(&self.scenario_type)
                .map_err(|_| StorageError::Corrupt("evaluations.scenario_type"))?,
            evaluated_at: from_millis(self.evaluated_at)?,
            evaluation_metadata: stored_json(self.evaluation_metadata)?,
            reason_code: ReasonCode::parse(&self.reason_code)
                .map_err(|_| StorageError::Corrupt("evaluations.reason_code"))?,
            id: self.id,
            user_id: self.user_id,
            should_notify: self.should_notify,
            reason: self.reason,
            run_id: self.run_id,
            dry_run: self.dry_run,
            batch_index: self.batch_index,
        })
    }
}

impl NotificationRow {
    pub(crate) fn of(n: &NewNotification) -> Self {
        Self {
            id: n.id.clone(),
            user_id: n.user_id.clone(),
            org_id: n.org_id.clone(),
            scenario_type: n.scenario_type.as_str().to_owned(),
            dedupe_key: n.dedupe_key.clone(),
            payload: to_json_text(&n.payload),
            status: NotificationStatus::Pending.as_str().to_owned(),
            attempts: 0,
            last_error: None,
            created_at: to_millis(n.created_at),
            updated_at: to_millis(n.created_at),
            next_attempt_at: Some(to_millis(n.created_at)),
            delivered_at: None,
            run_id: n.run_id.clone(),
            evaluation_id: n.evaluation_id.clone(),
        }
    }
}

const COUNTING: [&str; 2] = ["pending", "delivered"];

/// The notification history of one mentor: the newest counting notification
/// per scenario and every dedupe key ever taken.
fn load_history(conn: &mut AnyConnection, user_id: &str) -> Result<OwnedHistory, StorageError> {
    let mut history = OwnedHistory::new(user_id);
    for scenario in ScenarioType::ALL {
        let last: Option<i64> = notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::scenario_type.eq(scenario.as_str()))
            .filter(notifications::status.eq_any(COUNTING))
            .order(notifications::created_at.desc())
            .select(notifications::created_at)
            .first(conn)
            .optional()?;
        history.last_notified_at[scenario.index()] = last.map(from_millis).transpose()?;
    }
    history.taken_keys = notification_keys::table
        .filter(notification_keys::user_id.eq(user_id))
        .select(notification_keys::dedupe_key)
        .load(conn)?;
    Ok(history)
}

/// Writes the outbox row and its dedupe key; a taken key is a unique
/// violation that the caller's transaction turns into a rollback.
pub(crate) fn enqueue(conn: &mut AnyConnection, n: &NewNotification) -> QueryResult<()> {
    diesel::insert_into(notification_keys::table)
        .values((
            notification_keys::dedupe_key.eq(n.dedupe_key.as_str()),
            notification_keys::user_id.eq(n.user_id.as_str()),
            notification_keys::created_at.eq(to_millis(n.created_at)),
        ))
        .execute(conn)?;
    diesel::insert_into(notifications::table)
        .values(&NotificationRow::of(n))
        .execute(conn)?;
    Ok(())
}

/// The reason codes of decisions with nothing to say, which a run writes
/// for most mentors. The `evaluations_reason_code` index leaves them out
/// (migrations 000007, 000009): a filter on one of them walks the ids
/// (newest first), where most rows match.
const QUIET_REASON_CODES: [ReasonCode; 4] = [
    ReasonCode::MilestoneNotReached,
    ReasonCode::ThresholdNotReached,
    ReasonCode::NoCertification,
    ReasonCode::ExpiryNotWithinLeadTime,
];

/// The predicate of the partial `evaluations_reason_code` index, as SQL
/// literals: SQLite (and PostgreSQL, for a bound code) use a partial index
/// only when the query states its predicate.
static NOT_QUIET: LazyLock<String> = LazyLock::new(|| {
    QUIET_REASON_CODES
        .iter()
        .map(|c| format!("evaluations.reason_code <> '{}'", c.as_str()))
        .collect::<Vec<_>>()
        .join(" AND ")
});

fn filtered<'a>(f: &'a EvaluationFilter) -> evaluations::BoxedQuery<'a, MultiBackend> {
    let mut q = evaluations::table.into_boxed();
    if let Some(u) = &f.user_id {
        q = q.filter(evaluations::user_id.eq(u));
    }
    if let Some(s) = f.scenario_type {
        q = q.filter(evaluations::scenario_type.eq(s.as_str()));
    }
    // The boolean filters are SQL literals, not bound parameters: only then
    // can SQLite and PostgreSQL use the partial index on the rare value
    // (`WHERE should_notify`, `WHERE dry_run`; migration 000006).
    if let Some(s) = f.should_notify {
        q = q.filter(sql::<Bool>(if s {
            "evaluations.should_notify"
        } else {
            "NOT evaluations.should_notify"
        }));
    }
    if let Some(r) = &f.run_id {
        q = q.filter(evaluations::run_id.eq(r));
    }
    if let Some(r) = f.reason_code {
        q = q.filter(evaluations::reason_code.eq(r.as_str()));
        if !QUIET_REASON_CODES.contains(&r) {
            q = q.filter(sql::<Bool>(NOT_QUIET.as_str()));
        }
    }
    if let Some(d) = f.dry_run {
        q = q.filter(sql::<Bool>(if d {
            "evaluations.dry_run"
        } else {
            "NOT evaluations.dry_run"
        }));
    }
    // The time range is also a range of ids (ids carry their instant,
    // migration 000009), which the primary key's index serves; the
    // evaluated_at predicate keeps it exact.
    if let Some(t) = f.from {
        q = q
            .filter(evaluations::id.ge(id_bounds_at(EVALUATION_ID_PREFIX, t).0))
            .filter(evaluations::evaluated_at.ge(to_millis(t)));
    }
    if let Some(t) = f.to {
        q = q
            .filter(evaluations::id.le(id_bounds_at(EVALUATION_ID_PREFIX, t + LEGACY_ID_LAG).1))
            .filter(evaluations::evaluated_at.le(to_millis(t)));
    }
    q
}

/// How far after its `evaluated_at` the id of an evaluation written before
/// migration 000009 may lie: those ids came from the wall clock just after
/// the instant (never before it), so a range of ids from the range's first
/// instant to this much past its last still holds every such row.
pub(crate) const LEGACY_ID_LAG: chrono::Duration = chrono::Duration::minutes(1);

impl EvaluationRepository for Store {
    fn load_subject(&self, user_id: &str) -> MaybeMentor<Subject> {
        self.with_conn(|conn| {
            let Some(record) = load_record(conn, user_id)? else {
                return Ok(None);
            };
            let mut milestones_achieved_at = [None; 4];
            let rows: Vec<(String, i64)> = mentor_milestones::table
                .filter(mentor_milestones::user_id.eq(user_id))
                .select((
                    mentor_milestones::milestone_type,
                    mentor_milestones::achieved_at,
                ))
                .load(conn)?;
            for (name, at) in rows {
                if let Ok(t) = MilestoneType::parse(&name) {
                    milestones_achieved_at[t.index()] = Some(from_millis(at)?);
                }
            }
            let history = load_history(conn, user_id)?;
            Ok(Some(Subject {
                record,
                milestones_achieved_at,
                history,
            }))
        })
    }

    fn record_evaluation(
        &self,
        evaluation: &EvaluationRecord,
        notification: Option<&NewNotification>,
        milestone_seen: Option<(MilestoneType, DateTime<Utc>)>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            let notified = notification.map(|n| n.user_id.as_str());
            hold_mentors(
                c,
                std::iter::once(evaluation.user_id.as_str()).chain(notified),
            )?;
            diesel::insert_into(evaluations::table)
                .values(&EvaluationRow::of(evaluation))
                .execute(c)?;
            if let Some(n) = notification {
                enqueue(c, n)?;
            }
            if let Some((t, at)) = milestone_seen {
                record_milestone(c, &evaluation.user_id, t, at)?;
            }
            Ok(())
        })
        .map_err(StoreError::from)
    }

    fn get_evaluation(&self, id: &str) -> Result<Option<EvaluationRecord>, StoreError> {
        self.with_conn(|conn| {
            // On the concrete connection, so that the statement comes from
            // the cache as it is.
            let row = per_backend!(conn, |c| evaluations::table
                .find(id)
                .select(EvaluationRow::as_select())
                .first::<EvaluationRow>(c)
                .optional())?;
            row.map(EvaluationRow::into_record).transpose()
        })
    }

    fn list_evaluations(
        &self,
        filter: &EvaluationFilter,
        page: PageRequest,
    ) -> Result<Paged<EvaluationRecord>, StoreError> {
        let (total, rows) = self.with_conn::<_, StoreError>(|c| {
            let (total, rows) = newest_first_page!(
                c,
                evaluations,
                EvaluationRow,
                Counted::Evaluations,
                filter,
                filtered,
                page
            );
            Ok((total, rows))
        })?;
        let rows = rows
            .into_iter()
            .map(EvaluationRow::into_record)
            .collect::<Result<_, _>>()?;
        Ok(Paged { rows, total })
    }

    fn override_evaluation(
        &self,
        id: &str,
        change: &EvaluationOverride,
        now: DateTime<Utc>,
    ) -> Result<Option<EvaluationRecord>, StoreError> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            if let Some(should) = change.should_notify {
                diesel::update(evaluations::table.find(id))
                    .set(evaluations::should_notify.eq(should))
                    .execute(c)?;
            }
            if let Some(meta) = &change.evaluation_metadata {
                let text = serde_json::Value::Object(meta.clone()).to_string();
                diesel::update(evaluations::table.find(id))
                    .set(evaluations::evaluation_metadata.eq(text))
                    .execute(c)?;
            }
            let Some(row) = evaluations::table
                .find(id)
                .select(EvaluationRow::as_select())
                .first::<EvaluationRow>(c)
                .optional()?
            else {
                return Ok(None);
            };
            if change.should_notify == Some(false) {
                diesel::update(
                    notifications::table
                        .filter(notifications::evaluation_id.eq(id))
                        .filter(notifications::status.eq(NotificationStatus::Pending.as_str())),
                )
                .set((
                    notifications::status.eq(NotificationStatus::Cancelled.as_str()),
                    notifications::updated_at.eq(to_millis(now)),
                    notifications::next_attempt_at.eq(None::<i64>),
                ))
                .execute(c)?;
            }
            row.into_record().map(Some)
        })
        .map_err(StoreError::from)
    }

    fn delete_evaluation(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        // Its notification stays, unlinked (`links.rs`).
        let n = write_tx(&mut conn, |c| -> Result<usize, StorageError> {
            unlink_notifications(c, &[id.to_owned()])?;
            Ok(diesel::delete(evaluations::table.find(id)).execute(c)?)
        })
        .map_err(StoreError::from)?;
        Ok(n > 0)
    }

    fn prune_evaluations_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        // One chunk, the oldest ids first: a range of the key's index (ids
        // carry their instant), the instant kept for exactness.
        // Their notifications stay, unlinked (`links.rs`).
        let n = self
            .write(|c| -> Result<usize, StorageError> {
                let chunk = evaluations::table
                    .filter(
                        evaluations::id.lt(id_bounds_at(
                            EVALUATION_ID_PREFIX,
                            cutoff + LEGACY_ID_LAG,
                        )
                        .0),
                    )
                    .filter(evaluations::evaluated_at.lt(to_millis(cutoff)))
                    .order(evaluations::id.asc())
                    .select(evaluations::id)
                    .limit(i64::from(limit))
                    .load::<String>(c)?;
                unlink_notifications(c, &chunk)?;
                Ok(
                    diesel::delete(evaluations::table.filter(evaluations::id.eq_any(&chunk)))
                        .execute(c)?,
                )
            })
            .map_err(StoreError::from)?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::{EvaluationRow, NOT_QUIET, StorageError, StoreError};

    /// A stored code that names no `ReasonCode` (a row written by hand, or
    /// by a later version) is a storage failure, not a panic.
    #[test]
    fn an_unknown_stored_reason_code_is_a_backend_error() {
        let row = EvaluationRow {
            id: "trg_1".into(),
            user_id: "usr_1".into(),
            scenario_type: "inactivity".into(),
            should_notify: false,
            evaluated_at: 1_774_425_600_000,
            evaluation_metadata: "{}".into(),
            reason: "Mentor is paused".into(),
            reason_code: "mentor_on_holiday".into(),
            run_id: None,
            dry_run: false,
            batch_index: None,
        };
        let ok = EvaluationRow {
            reason_code: "mentor_paused".into(),
            ..row.clone()
        };
        assert!(ok.into_record().is_ok());
        let err = row.into_record().unwrap_err();
        assert!(matches!(
            err,
            StorageError::Corrupt("evaluations.reason_code")
        ));
        assert!(matches!(StoreError::from(err), StoreError::Backend(_)));
    }

    /// The query's predicate and both migrations' index predicate say the
    /// same: if they drift apart, SQLite and PostgreSQL stop using the
    /// index and walk the whole table for a rare code.
    #[test]
    fn the_partial_reason_code_index_and_its_query_agree() {
        assert_eq!(
            NOT_QUIET.as_str(),
            "evaluations.reason_code <> 'milestone_not_reached' \
             AND evaluations.reason_code <> 'threshold_not_reached' \
             AND evaluations.reason_code <> 'no_certification' \
             AND evaluations.reason_code <> 'expiry_not_within_lead_time'"
        );
        let index = NOT_QUIET.replace("evaluations.", "");
        for up in [
            include_str!(
                "../../../migrations/sqlite/2026-12-02-000007_no_statement_journal/up.sql"
            ),
            include_str!(
                "../../../migrations/postgres/2026-12-02-000007_no_statement_journal/up.sql"
            ),
            include_str!("../../../migrations/sqlite/2026-12-02-000009_ids_carry_instants/up.sql"),
            include_str!(
                "../../../migrations/postgres/2026-12-02-000009_ids_carry_instants/up.sql"
            ),
        ] {
            assert!(up.contains(&format!("WHERE {index};")), "{up}");
        }
    }
}
