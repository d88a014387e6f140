//! What the contract cases share: fixed instants, builders, the services
//! over a store, and the probes that look past the repository traits.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
use scenario_engine::rules::{Certification, ReasonCode, Rules, Scenario, ScenarioType};
use scenario_engine::service::{
    ActivityEvent, ActivityOutcome, BatchEvaluator, BatchRepository, EvaluateRequest,
    EvaluationRecord, EvaluationRepository, EvaluationService, MentorRecord, MentorRepository,
    MentorService, MentorUpsert, NewNotification, NotificationStatus,
};
use storage_diesel::Store;

/// The organisation of the contract examples.
pub const ORG: &str = "org_oslo_01";

/// An instant in UTC.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// "Now" of the contract examples: 2026-03-25T08:00:00Z.
pub fn t0() -> DateTime<Utc> {
    utc(2026, 3, 25, 8, 0, 0)
}

/// The contract example's last activity: 2026-03-16T14:22:00Z.
pub fn last_active() -> DateTime<Utc> {
    utc(2026, 3, 16, 14, 22, 0)
}

/// One outbox row as a case sees it, whatever the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    pub dedupe_key: String,
    pub status: NotificationStatus,
    pub evaluation_id: Option<String>,
}

/// What a case may inspect beyond the two repository traits.
pub trait Probe {
    /// The outbox rows of a mentor, ordered by id.
    fn outbox(&self, user_id: &str) -> Vec<OutboxRow>;

    /// Rows left about a mentor in every table that holds any, where the
    /// backend can count them (`None` for the in-memory store).
    fn rows_about(&self, user_id: &str) -> Option<Vec<(&'static str, i64)>>;

    /// Sets a notification's status directly, where the backend can
    /// (`false` for the in-memory store, whose rows change only through its ports).
    fn set_notification_status(&self, id: &str, status: NotificationStatus) -> bool;
}

/// A store under contract: the three repositories plus the probes.
pub trait Repo:
    MentorRepository + EvaluationRepository + BatchRepository + Probe + 'static
{
}

impl<T: MentorRepository + EvaluationRepository + BatchRepository + Probe + 'static> Repo for T {}

impl Probe for InMemoryStore {
    fn outbox(&self, user_id: &str) -> Vec<OutboxRow> {
        let mut rows: Vec<OutboxRow> = self
            .notifications()
            .into_iter()
            .filter(|n| n.notification.user_id == user_id)
            .map(|n| OutboxRow {
                id: n.notification.id,
                dedupe_key: n.notification.dedupe_key,
                status: n.status,
                evaluation_id: n.notification.evaluation_id,
            })
            .collect();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    }

    fn rows_about(&self, _user_id: &str) -> Option<Vec<(&'static str, i64)>> {
        None
    }

    fn set_notification_status(&self, _id: &str, _status: NotificationStatus) -> bool {
        false
    }
}

/// Every table that holds rows about a mentor, by `user_id`.
const MENTOR_TABLES: [&str; 7] = [
    "mentors",
    "certifications",
    "activity_events",
    "mentor_milestones",
    "evaluations",
    "notifications",
    "notification_keys",
];

/// A string literal for SQL; the ids in these tests are ours, but quote anyway.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct OutboxSql {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    dedupe_key: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    evaluation_id: Option<String>,
}

impl Probe for Store {
    fn outbox(&self, user_id: &str) -> Vec<OutboxRow> {
        let mut conn = self.conn().unwrap();
        let sql = format!(
            "SELECT id, dedupe_key, status, evaluation_id FROM notifications WHERE user_id = {} ORDER BY id",
            literal(user_id)
        );
        diesel::sql_query(sql)
            .load::<OutboxSql>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|r| OutboxRow {
                id: r.id,
                dedupe_key: r.dedupe_key,
                status: NotificationStatus::parse(&r.status).unwrap(),
                evaluation_id: r.evaluation_id,
            })
            .collect()
    }

    fn rows_about(&self, user_id: &str) -> Option<Vec<(&'static str, i64)>> {
        let mut conn = self.conn().unwrap();
        let counts = MENTOR_TABLES
            .into_iter()
            .map(|table| {
                let sql = format!(
                    "SELECT COUNT(*) AS n FROM {table} WHERE user_id = {}",
                    literal(user_id)
                );
                let n = diesel::sql_query(sql)
                    .get_result::<Count>(&mut *conn)
                    .unwrap()
                    .n;
                (table, n)
            })
            .collect();
        Some(counts)
    }

    fn set_notification_status(&self, id: &str, status: NotificationStatus) -> bool {
        let mut conn = self.conn().unwrap();
        let sql = format!(
            "UPDATE notifications SET status = {} WHERE id = {}",
            literal(status.as_str()),
            literal(id)
        );
        let n = diesel::sql_query(sql).execute(&mut *conn).unwrap();
        assert_eq!(n, 1, "no notification {id}");
        true
    }
}

/// `(table, 0)` for every table about a mentor: nothing left.
pub fn no_rows() -> Vec<(&'static str, i64)> {
    MENTOR_TABLES.into_iter().map(|t| (t, 0)).collect()
}

/// An upsert that creates a mentor of [`ORG`].
pub fn in_org() -> MentorUpsert {
    MentorUpsert {
        org_id: Some(ORG.to_owned()),
        ..MentorUpsert::default()
    }
}

/// Creates a mentor of [`ORG`] at `now` and returns it.
pub fn create<S: Repo>(s: &S, user_id: &str, now: DateTime<Utc>) -> MentorRecord {
    let (record, created) = s.upsert_mentor(user_id, &in_org(), now).unwrap();
    assert!(created, "{user_id} already existed");
    record
}

/// An activity event.
pub fn event(event_id: Option<&str>, kind: &str, occurred_at: DateTime<Utc>) -> ActivityEvent {
    ActivityEvent {
        event_id: event_id.map(str::to_owned),
        kind: kind.to_owned(),
        occurred_at,
    }
}

/// Records an activity event that must be new, and returns the mentor after it.
pub fn recorded<S: Repo>(
    s: &S,
    user_id: &str,
    e: &ActivityEvent,
    now: DateTime<Utc>,
) -> MentorRecord {
    match s.record_activity(user_id, e, now).unwrap() {
        Some(ActivityOutcome::Recorded(record)) => record,
        other => panic!("expected Recorded for {e:?}, got {other:?}"),
    }
}

/// A certification.
pub fn cert(id: &str, expires_at: DateTime<Utc>, required: bool) -> Certification {
    Certification {
        certification_id: id.to_owned(),
        name: format!("Course {id}"),
        issued_at: Some(utc(2025, 4, 25, 0, 0, 0)),
        expires_at,
        required,
    }
}

/// A decision to record directly through the repository.
pub fn evaluation(
    id: &str,
    user_id: &str,
    scenario_type: ScenarioType,
    should_notify: bool,
    evaluated_at: DateTime<Utc>,
) -> EvaluationRecord {
    EvaluationRecord {
        id: id.to_owned(),
        user_id: user_id.to_owned(),
        scenario_type,
        should_notify,
        evaluated_at,
        evaluation_metadata: serde_json::json!({ "case": id }).into(),
        reason: format!("decision {id}"),
        reason_code: if should_notify {
            ReasonCode::ThresholdReached
        } else {
            ReasonCode::ThresholdNotReached
        },
        run_id: None,
        batch_index: None,
        dry_run: false,
    }
}

/// The outbox row of `evaluation`, with `dedupe_key`.
pub fn notification(id: &str, evaluation: &EvaluationRecord, dedupe_key: &str) -> NewNotification {
    NewNotification {
        id: id.to_owned(),
        user_id: evaluation.user_id.clone(),
        org_id: ORG.to_owned(),
        scenario_type: evaluation.scenario_type,
        dedupe_key: dedupe_key.to_owned(),
        payload: serde_json::json!({ "version": 1, "notification_id": id }),
        created_at: evaluation.evaluated_at,
        run_id: evaluation.run_id.clone(),
        evaluation_id: Some(evaluation.id.clone()),
    }
}

/// An id as the services make them ([`scenario_engine::service::IdSource::id_at`]):
/// `prefix_` plus a ULID whose time is `at`, with `key`'s bytes (at most
/// ten) as its random part, so that ids of one instant sort by key. The
/// stores list rows newest first by their id: only ids that carry their
/// instant give the order of (instant, id).
pub fn id_carrying(prefix: &str, key: &str, at: DateTime<Utc>) -> String {
    assert!(key.len() <= 10, "{key}");
    let random = key
        .bytes()
        .fold(0_u128, |acc, b| (acc << 8) | u128::from(b));
    let ms = scenario_engine::service::ulid_millis(at);
    format!("{prefix}_{}", ulid::Ulid::from_parts(ms, random))
}

/// The `key` of an [`id_carrying`] id, after its prefix: `trg_04` for
/// `id_carrying("trg", "04", at)`.
pub fn key_named(id: &str) -> String {
    let (prefix, ulid) = id.split_once('_').unwrap();
    let random = ulid.parse::<ulid::Ulid>().unwrap().random();
    let bytes: Vec<u8> = random
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    format!("{prefix}_{}", String::from_utf8(bytes).unwrap())
}

/// The ids of a page of evaluations, in order.
pub fn ids(rows: &[EvaluationRecord]) -> Vec<&str> {
    rows.iter().map(|e| e.id.as_str()).collect()
}

/// The user ids of a page of mentors, in order.
pub fn user_ids(rows: &[MentorRecord]) -> Vec<&str> {
    rows.iter().map(|r| r.mentor.user_id.as_str()).collect()
}

/// The services over one store, on a fixed clock.
pub struct Services {
    pub mentors: MentorService,
    pub evaluations: EvaluationService,
    pub batches: BatchEvaluator,
    pub clock: Arc<FixedClock>,
}

impl Services {
    /// The services over `store` at `now` with `rules`.
    pub fn new<S: Repo>(store: &Arc<S>, now: DateTime<Utc>, rules: Rules) -> Self {
        let clock = Arc::new(FixedClock::new(now));
        Self {
            mentors: MentorService::new(store.clone(), clock.clone()),
            evaluations: EvaluationService::new(
                store.clone(),
                clock.clone(),
                Arc::new(UlidIds::new()),
                rules,
            ),
            batches: BatchEvaluator::new(
                store.clone(),
                clock.clone(),
                Arc::new(UlidIds::new()),
                rules,
            ),
            clock,
        }
    }

    /// Evaluates (for real, outside any run) and returns the recorded decision.
    pub fn evaluate(&self, user_id: &str, scenario: Scenario) -> EvaluationRecord {
        self.evaluate_with(user_id, scenario, false)
    }

    /// Evaluates, as a dry run or not.
    pub fn evaluate_with(
        &self,
        user_id: &str,
        scenario: Scenario,
        dry_run: bool,
    ) -> EvaluationRecord {
        self.evaluations
            .evaluate(EvaluateRequest {
                user_id: user_id.to_owned(),
                scenario,
                dry_run,
                run_id: None,
            })
            .unwrap()
    }
}
