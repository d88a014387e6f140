//! The `BatchRepository` contract (scenario-engine `repo.rs`) and
//! `BatchEvaluator` end to end, on the in-memory store, SQLite and
//! PostgreSQL: subjects loaded per batch, the batch written all or nothing,
//! taken dedupe keys, run totals, batch decisions, erasure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

#[allow(
    dead_code,
    reason = "shared with repository.rs; this binary uses part of it"
)]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use run_log::{Run, RunRepository, Trigger};
use scenario_engine::adapters::{DEMO_ORGS, InMemoryStore, demo_mentors};
use scenario_engine::rules::{
    MentorStatus, MilestoneType, Pause, PauseReason, Rules, ScenarioType,
};
use scenario_engine::service::{
    BatchEntry, BatchRequest, BatchWrite, Enqueue, EvaluationFilter, MentorRecord,
    MentorRepository, MentorUpsert, NotificationFilter, NotificationStatus, Outbox, PageRequest,
    PreferencesPatch, SESSION_COMPLETED, StoreError, Subject,
};
use storage_diesel::Store;

use common::{
    Repo, Services, cert, create, evaluation, event, in_org, last_active, notification, recorded,
    t0, utc,
};

#[macro_use]
mod three_stores;

three_store_tests![
    scenario_engine::adapters::InMemoryStore::default() =>
    load_subjects_matches_load_subject_for_a_mixed_set_in_request_order,
    active_user_ids_after_pages_active_mentors_in_bytewise_user_id_order,
    active_user_ids_between_reads_a_planned_range_inclusively,
    load_active_subjects_between_reads_the_active_mentors_of_a_range_with_their_history_only,
    a_batch_records_every_decision_its_notifications_and_one_row_per_user_and_scenario_type,
    a_taken_dedupe_key_is_not_enqueued_and_its_evaluation_reads_already_notified,
    a_second_write_of_the_same_batch_is_a_conflict_and_writes_nothing,
    a_batch_failing_midway_writes_nothing,
    several_batches_are_written_all_or_nothing,
    run_totals_and_batch_results_grow_with_each_batch,
    a_dry_run_batch_records_decisions_and_changes_nothing_else,
    deleting_a_mentor_erases_their_per_user_results_only,
    a_run_over_generated_mentors_gives_the_expected_counts,
    a_second_run_inside_the_cooldown_dispatches_nothing_new,
    of_two_milestones_reached_at_once_the_second_waits_for_the_cooldown,
    a_run_over_500_demo_mentors_notifies_every_scenario_type,
];

const USER: &str = "usr_mentor_7821";

/// A per-user result of a batch, read off its evaluations:
/// (batch_index, user_id, scenario_type, notified, reason_code).
type DecisionRow = (i64, String, String, bool, String);

/// What a case inspects about runs and batches beyond the traits.
trait BatchProbe: Repo + Outbox {
    /// Records a running run, where the store keeps runs.
    fn start_run(&self, run_id: &str);
    /// `(users_evaluated, notifications_dispatched)` of a run.
    fn run_totals(&self, run_id: &str) -> (i64, i64);
    /// `(batch_index, user_count, notifications_sent)` per batch of a run.
    fn batch_results(&self, run_id: &str) -> Vec<(i64, i64, i64)>;
    /// The run's per-user batch results (its evaluations with a batch index), sorted.
    fn decisions(&self, run_id: &str) -> Vec<DecisionRow>;
    /// Stores whole mentor records (status, pause, certifications and
    /// preferences as given), as seeding demo data does.
    fn insert_records(&self, records: Vec<MentorRecord>);
}

impl BatchProbe for InMemoryStore {
    fn start_run(&self, _run_id: &str) {}

    fn insert_records(&self, records: Vec<MentorRecord>) {
        for r in records {
            let m = &r.mentor;
            let upsert = MentorUpsert {
                org_id: Some(m.org_id.clone()),
                status: Some(m.status),
                last_active_at: m.last_active_at,
                sessions_count: Some(m.sessions_count),
                first_session_at: m.first_session_at,
                created_at: Some(m.created_at),
            };
            self.upsert_mentor(&m.user_id, &upsert, m.updated_at)
                .unwrap();
            self.set_status(&m.user_id, m.status, m.pause.as_ref(), m.updated_at)
                .unwrap();
            for c in &r.certifications {
                self.put_certification(&m.user_id, c, m.updated_at).unwrap();
            }
            let p = r.preferences;
            let patch = PreferencesPatch {
                all: Some(p.all),
                inactivity: Some(p.inactivity),
                milestone: Some(p.milestone),
                certification_expiry: Some(p.certification_expiry),
            };
            self.set_preferences(&m.user_id, &patch, m.updated_at)
                .unwrap();
        }
    }

    fn run_totals(&self, run_id: &str) -> (i64, i64) {
        InMemoryStore::run_totals(self, run_id)
    }

    fn batch_results(&self, run_id: &str) -> Vec<(i64, i64, i64)> {
        InMemoryStore::batch_results(self, run_id)
            .into_iter()
            .map(|(i, b)| (i, b.user_count, b.notifications_sent))
            .collect()
    }

    fn decisions(&self, run_id: &str) -> Vec<DecisionRow> {
        let mut rows: Vec<DecisionRow> = self
            .batch_decisions(run_id)
            .into_iter()
            .map(|d| {
                (
                    d.batch_index,
                    d.user_id,
                    d.scenario_type.as_str().to_owned(),
                    d.notified,
                    d.reason_code.as_str().to_owned(),
                )
            })
            .collect();
        rows.sort();
        rows
    }
}

#[derive(QueryableByName)]
struct DecisionSql {
    #[diesel(sql_type = BigInt)]
    batch_index: i64,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    scenario_type: String,
    #[diesel(sql_type = Bool)]
    notified: bool,
    #[diesel(sql_type = Text)]
    reason_code: String,
}

impl BatchProbe for Store {
    fn start_run(&self, run_id: &str) {
        let run = Run::start(run_id.into(), "scenario_evaluation", Trigger::Manual, t0());
        self.insert_run(&run, None).unwrap();
    }

    fn insert_records(&self, records: Vec<MentorRecord>) {
        let n = records.len() as u64;
        assert_eq!(self.bulk_insert_mentors(records).unwrap(), n);
    }

    fn run_totals(&self, run_id: &str) -> (i64, i64) {
        let run = self.get_run(run_id).unwrap().unwrap();
        (run.users_evaluated, run.notifications_dispatched)
    }

    fn batch_results(&self, run_id: &str) -> Vec<(i64, i64, i64)> {
        RunRepository::batch_results(self, run_id)
            .unwrap()
            .into_iter()
            .map(|b| (b.batch_index, b.user_count, b.notifications_sent))
            .collect()
    }

    fn decisions(&self, run_id: &str) -> Vec<DecisionRow> {
        let mut conn = self.conn().unwrap();
        let sql = format!(
            "SELECT batch_index, user_id, scenario_type, should_notify AND NOT dry_run AS notified, reason_code FROM evaluations WHERE run_id = '{}' AND batch_index IS NOT NULL",
            run_id.replace('\'', "''")
        );
        let mut rows: Vec<DecisionRow> = diesel::sql_query(sql)
            .load::<DecisionSql>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|d| {
                (
                    d.batch_index,
                    d.user_id,
                    d.scenario_type,
                    d.notified,
                    d.reason_code,
                )
            })
            .collect();
        rows.sort();
        rows
    }
}

fn row(index: i64, user: &str, scenario: &str, notified: bool, code: &str) -> DecisionRow {
    (
        index,
        user.to_owned(),
        scenario.to_owned(),
        notified,
        code.to_owned(),
    )
}

/// A subject with its taken keys sorted: storage returns them in any order.
fn normalised(mut s: Subject) -> Subject {
    s.history.taken_keys.sort();
    s
}

fn by_run(run_id: &str) -> EvaluationFilter {
    EvaluationFilter {
        run_id: Some(run_id.to_owned()),
        ..EvaluationFilter::default()
    }
}

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        limit: 100,
    }
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A mentor inactive since [`last_active`] (9 days before [`t0`]).
fn inactive_mentor<S: Repo>(s: &S, user_id: &str) {
    let upsert = MentorUpsert {
        last_active_at: Some(last_active()),
        ..in_org()
    };
    s.upsert_mentor(user_id, &upsert, t0()).unwrap();
}

/// Sets a mentor's status to `inactive`.
fn set_inactive<S: Repo>(s: &S, user_id: &str) {
    let upsert = MentorUpsert {
        status: Some(MentorStatus::Inactive),
        ..MentorUpsert::default()
    };
    s.upsert_mentor(user_id, &upsert, t0()).unwrap();
}

/// Pauses a mentor from `t0()` on, with no end.
fn pause<S: Repo>(s: &S, user_id: &str, reason: PauseReason) {
    let pause = Pause {
        reason,
        since: t0(),
        until: None,
    };
    s.set_status(user_id, MentorStatus::Paused, Some(&pause), t0())
        .unwrap();
}

// ---------------------------------------------------------------- the port

fn load_subjects_matches_load_subject_for_a_mixed_set_in_request_order<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    // With certifications, milestones and notification history.
    inactive_mentor(&**s, "usr_a");
    s.put_certification(
        "usr_a",
        &cert("cert_1", utc(2026, 4, 10, 0, 0, 0), true),
        t0(),
    )
    .unwrap();
    s.put_certification(
        "usr_a",
        &cert("cert_0", utc(2027, 1, 1, 0, 0, 0), false),
        t0(),
    )
    .unwrap();
    recorded(
        &**s,
        "usr_a",
        &event(Some("ev_1"), SESSION_COMPLETED, utc(2026, 3, 10, 17, 0, 0)),
        t0(),
    );
    services.evaluate(
        "usr_a",
        scenario_engine::rules::Scenario::inactivity(None).unwrap(),
    );
    services.evaluate(
        "usr_a",
        scenario_engine::rules::Scenario::certification_expiry(None).unwrap(),
    );
    // Plain.
    create(&**s, "usr_b", t0());
    // A certification only, and paused.
    create(&**s, "usr_c", t0());
    s.put_certification(
        "usr_c",
        &cert("cert_9", utc(2026, 5, 1, 0, 0, 0), false),
        t0(),
    )
    .unwrap();
    pause(&**s, "usr_c", PauseReason::Admin);
    // Someone else's history must not leak in.
    inactive_mentor(&**s, "usr_d");
    services.evaluate(
        "usr_d",
        scenario_engine::rules::Scenario::inactivity(None).unwrap(),
    );

    // Delivered notifications count for the cooldown, failed and cancelled
    // ones do not, but their keys stay taken (where the store has a worker).
    let outbox_a = s.outbox("usr_a");
    s.set_notification_status(&outbox_a[0].id, NotificationStatus::Delivered);
    s.set_notification_status(&outbox_a[1].id, NotificationStatus::Cancelled);
    let outbox_d = s.outbox("usr_d");
    s.set_notification_status(&outbox_d[0].id, NotificationStatus::Failed);

    let asked = ids(&[
        "usr_c",
        "usr_unknown",
        "usr_a",
        "usr_b",
        "usr_a",
        "usr_zz",
        "usr_d",
    ]);
    let loaded: Vec<Subject> = s
        .load_subjects(&asked)
        .unwrap()
        .into_iter()
        .map(normalised)
        .collect();
    let expected: Vec<Subject> = ["usr_c", "usr_a", "usr_b", "usr_d"]
        .into_iter()
        .map(|id| normalised(s.load_subject(id).unwrap().unwrap()))
        .collect();
    assert_eq!(loaded, expected);
    assert_eq!(loaded[1].history.taken_keys.len(), 2);
    assert!(loaded[1].milestones_achieved_at[0].is_some());
    assert_eq!(s.load_subjects(&[]).unwrap(), vec![]);
}

fn active_user_ids_after_pages_active_mentors_in_bytewise_user_id_order<S: BatchProbe>(s: &Arc<S>) {
    for id in ["usr_b", "usr_B", "usr_a", "usr_c", "usr_d", "usr_e"] {
        create(&**s, id, t0());
    }
    set_inactive(&**s, "usr_c");
    pause(&**s, "usr_d", PauseReason::Requested);

    let first = s.active_user_ids_after(None, 2).unwrap();
    assert_eq!(first, ids(&["usr_B", "usr_a"]));
    let second = s.active_user_ids_after(Some("usr_a"), 2).unwrap();
    assert_eq!(second, ids(&["usr_b", "usr_e"]));
    assert_eq!(
        s.active_user_ids_after(Some("usr_e"), 2).unwrap(),
        Vec::<String>::new()
    );
    // `after` need not be an existing id.
    assert_eq!(
        s.active_user_ids_after(Some("usr_ab"), 10).unwrap(),
        ids(&["usr_b", "usr_e"])
    );
}

fn active_user_ids_between_reads_a_planned_range_inclusively<S: BatchProbe>(s: &Arc<S>) {
    for id in ["usr_b", "usr_B", "usr_a", "usr_c", "usr_d", "usr_e"] {
        create(&**s, id, t0());
    }
    set_inactive(&**s, "usr_c");
    // Bytewise: "usr_B" < "usr_a"; the ends are included; inactive ones are not.
    assert_eq!(
        s.active_user_ids_between("usr_B", "usr_d").unwrap(),
        ids(&["usr_B", "usr_a", "usr_b", "usr_d"])
    );
    assert_eq!(
        s.active_user_ids_between("usr_c", "usr_c").unwrap(),
        Vec::<String>::new()
    );
    // Ends need not exist.
    assert_eq!(
        s.active_user_ids_between("usr_ab", "usr_dz").unwrap(),
        ids(&["usr_b", "usr_d"])
    );
    assert_eq!(
        s.active_user_ids_between("usr_e", "usr_a").unwrap(),
        Vec::<String>::new()
    );
}

fn load_active_subjects_between_reads_the_active_mentors_of_a_range_with_their_history_only<
    S: BatchProbe,
>(
    s: &Arc<S>,
) {
    let services = Services::new(s, t0(), Rules::default());
    // Everyone has a certification, a completed session, and notification
    // history, so that rows of the mentors left out are there to leak.
    for id in ["usr_a", "usr_b", "usr_c", "usr_d", "usr_e", "usr_f"] {
        inactive_mentor(&**s, id);
        s.put_certification(
            id,
            &cert(&format!("cert_{id}"), utc(2026, 4, 10, 0, 0, 0), true),
            t0(),
        )
        .unwrap();
        recorded(
            &**s,
            id,
            &event(Some("ev_1"), SESSION_COMPLETED, utc(2026, 3, 10, 17, 0, 0)),
            t0(),
        );
        services.evaluate(
            id,
            scenario_engine::rules::Scenario::inactivity(None).unwrap(),
        );
        services.evaluate(
            id,
            scenario_engine::rules::Scenario::certification_expiry(None).unwrap(),
        );
    }
    create(&**s, "usr_B", t0());
    // Inside the range but not active: left out with all their rows.
    set_inactive(&**s, "usr_c");
    pause(&**s, "usr_d", PauseReason::Admin);
    // A delivered notification counts for the cooldown, a cancelled one
    // not (where the store has a worker; `load_subject` says which).
    let outbox_b = s.outbox("usr_b");
    s.set_notification_status(&outbox_b[0].id, NotificationStatus::Delivered);
    s.set_notification_status(&outbox_b[1].id, NotificationStatus::Cancelled);

    let load = |first: &str, last: &str| -> Vec<Subject> {
        s.load_active_subjects_between(first, last)
            .unwrap()
            .into_iter()
            .map(normalised)
            .collect()
    };
    let loaded = load("usr_b", "usr_e");
    let expected: Vec<Subject> = ["usr_b", "usr_e"]
        .into_iter()
        .map(|id| normalised(s.load_subject(id).unwrap().unwrap()))
        .collect();
    assert_eq!(loaded, expected);
    // The same as the two-step read a store without range reads does.
    let two_step: Vec<Subject> = s
        .load_subjects(&s.active_user_ids_between("usr_b", "usr_e").unwrap())
        .unwrap()
        .into_iter()
        .map(normalised)
        .collect();
    assert_eq!(loaded, two_step);
    let b = &loaded[0];
    assert_eq!(b.record.certifications.len(), 1);
    assert_eq!(b.history.taken_keys.len(), 2);
    assert!(b.milestones_achieved_at[0].is_some());

    let names = |subjects: Vec<Subject>| -> Vec<String> {
        subjects
            .into_iter()
            .map(|s| s.record.mentor.user_id)
            .collect()
    };
    // Bytewise ("usr_B" < "usr_a"), both ends included, ends need not exist.
    assert_eq!(names(load("usr_B", "usr_a")), ids(&["usr_B", "usr_a"]));
    assert_eq!(names(load("usr_ab", "usr_cz")), ids(&["usr_b"]));
    assert_eq!(names(load("usr_c", "usr_d")), Vec::<String>::new());
    assert_eq!(names(load("usr_f", "usr_a")), Vec::<String>::new());
}

fn a_batch_records_every_decision_its_notifications_and_one_row_per_user_and_scenario_type<
    S: BatchProbe,
>(
    s: &Arc<S>,
) {
    let services = Services::new(s, t0(), Rules::default());
    s.start_run("run_1");
    inactive_mentor(&**s, USER);
    s.put_certification(USER, &cert("cert_1", utc(2026, 4, 10, 0, 0, 0), true), t0())
        .unwrap();
    create(&**s, "usr_quiet", t0());

    let report = services
        .batches
        .evaluate_batch(BatchRequest::new(
            "run_1",
            0,
            ids(&[USER, "usr_ghost", "usr_quiet"]),
        ))
        .unwrap();

    assert_eq!(report.users_evaluated, 2);
    assert_eq!(report.notifications_sent, 2);
    let results: Vec<(&str, Option<ScenarioType>, bool, &str)> = report
        .results
        .iter()
        .map(|r| {
            (
                r.user_id.as_str(),
                r.scenario_type,
                r.notified,
                r.reason_code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            (
                USER,
                Some(ScenarioType::Inactivity),
                true,
                "threshold_reached"
            ),
            (
                USER,
                Some(ScenarioType::Milestone),
                false,
                "milestone_not_reached"
            ),
            (
                USER,
                Some(ScenarioType::CertificationExpiry),
                true,
                "expiry_within_lead_time"
            ),
            ("usr_ghost", None, false, "unknown_user"),
            (
                "usr_quiet",
                Some(ScenarioType::Inactivity),
                false,
                "threshold_not_reached"
            ),
            (
                "usr_quiet",
                Some(ScenarioType::Milestone),
                false,
                "milestone_not_reached"
            ),
            (
                "usr_quiet",
                Some(ScenarioType::CertificationExpiry),
                false,
                "no_certification"
            ),
        ]
    );
    // One decision per known mentor and scenario type (of the four
    // milestone types, the one reported), every one recorded under the run.
    let recorded = s.list_evaluations(&by_run("run_1"), all()).unwrap();
    assert_eq!(recorded.total, 6);
    assert!(recorded.rows.iter().all(|e| !e.dry_run));
    let outbox = s.outbox(USER);
    assert_eq!(outbox.len(), 2);
    for n in &outbox {
        let e = s
            .get_evaluation(n.evaluation_id.as_deref().unwrap())
            .unwrap()
            .unwrap();
        assert!(e.should_notify);
        assert_eq!(e.run_id.as_deref(), Some("run_1"));
    }
    // New and due at once, every column written (PostgreSQL copies the
    // rows), and counted in the unfiltered totals.
    let enqueued = s
        .list_notifications(&NotificationFilter::default(), all())
        .unwrap();
    assert_eq!(enqueued.total, 2);
    for n in &enqueued.rows {
        assert_eq!(n.status, NotificationStatus::Pending);
        assert_eq!((n.attempts, n.last_error.as_deref()), (0, None));
        assert_eq!(n.updated_at, n.created_at);
        assert_eq!(n.next_attempt_at, Some(n.created_at));
        assert_eq!(n.delivered_at, None);
        assert_eq!(n.run_id.as_deref(), Some("run_1"));
    }
    let everything = s
        .list_evaluations(&EvaluationFilter::default(), all())
        .unwrap();
    assert_eq!(everything.total, 6);
    assert_eq!(
        s.decisions("run_1"),
        vec![
            row(
                0,
                USER,
                "certification_expiry",
                true,
                "expiry_within_lead_time"
            ),
            row(0, USER, "inactivity", true, "threshold_reached"),
            row(0, USER, "milestone", false, "milestone_not_reached"),
            row(
                0,
                "usr_quiet",
                "certification_expiry",
                false,
                "no_certification"
            ),
            row(0, "usr_quiet", "inactivity", false, "threshold_not_reached"),
            row(0, "usr_quiet", "milestone", false, "milestone_not_reached"),
        ]
    );
    // The unknown id counts neither in the batch nor in the run.
    assert_eq!(s.batch_results("run_1"), vec![(0, 2, 2)]);
    assert_eq!(s.run_totals("run_1"), (2, 2));
}

/// A batch entry written by hand: an inactivity decision for `user_id`
/// that fired, with its notification under `key`.
fn fired_entry(id: &str, user_id: &str, key: &str, at: DateTime<Utc>) -> BatchEntry {
    let mut e = evaluation(id, user_id, ScenarioType::Inactivity, true, at);
    e.run_id = Some("run_1".to_owned());
    let mut n = notification(&format!("ntf_{id}"), &e, key);
    n.run_id = e.run_id.clone();
    BatchEntry::new(
        e,
        Some(Enqueue::new(n, format!("{id} was already notified"))),
    )
}

fn write(batch_index: i64, entries: Vec<BatchEntry>) -> BatchWrite {
    BatchWrite {
        run_id: "run_1".to_owned(),
        batch_index,
        users_evaluated: 1,
        duration_ms: 7,
        entries,
        lease: None,
    }
}

fn a_taken_dedupe_key_is_not_enqueued_and_its_evaluation_reads_already_notified<S: BatchProbe>(
    s: &Arc<S>,
) {
    s.start_run("run_1");
    create(&**s, USER, t0());
    // Someone else took `key_a` after the batch read its subjects.
    let before = evaluation("trg_0", USER, ScenarioType::Inactivity, true, t0());
    s.record_evaluation(
        &before,
        Some(&notification("ntf_0", &before, "key_a")),
        None,
    )
    .unwrap();

    let batch = write(
        0,
        vec![
            fired_entry("trg_1", USER, "key_a", t0()),
            fired_entry("trg_2", USER, "key_b", t0()),
            // The same key twice in one batch: the first entry wins.
            fired_entry("trg_3", USER, "key_b", t0()),
        ],
    );
    let outcome = s.record_batch(&batch).unwrap();

    assert_eq!(outcome.notifications_sent, 1);
    assert_eq!(outcome.already_notified, vec![0, 2]);
    let lost = s.get_evaluation("trg_1").unwrap().unwrap();
    assert!(!lost.should_notify);
    assert_eq!(lost.reason_code.as_str(), "already_notified");
    assert_eq!(lost.reason, "trg_1 was already notified");
    assert_eq!(
        s.get_evaluation("trg_3")
            .unwrap()
            .unwrap()
            .reason_code
            .as_str(),
        "already_notified"
    );
    let kept = s.get_evaluation("trg_2").unwrap().unwrap();
    assert!(kept.should_notify);
    let outbox: Vec<(String, String)> = s
        .outbox(USER)
        .into_iter()
        .map(|n| (n.id, n.dedupe_key))
        .collect();
    assert_eq!(
        outbox,
        vec![
            ("ntf_0".to_owned(), "key_a".to_owned()),
            ("ntf_trg_2".to_owned(), "key_b".to_owned()),
        ]
    );
    // The batch's per-user results are its evaluations, as stored.
    assert_eq!(
        s.decisions("run_1"),
        vec![
            row(0, USER, "inactivity", false, "already_notified"),
            row(0, USER, "inactivity", false, "already_notified"),
            row(0, USER, "inactivity", true, "threshold_reached"),
        ]
    );
    assert_eq!(s.batch_results("run_1"), vec![(0, 1, 1)]);
    assert_eq!(s.run_totals("run_1"), (1, 1));
}

/// Everything a failed batch must not have left behind.
fn assert_only_batch_zero<S: BatchProbe>(s: &S) {
    let ids_left: Vec<String> = s
        .list_evaluations(&by_run("run_1"), all())
        .unwrap()
        .rows
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids_left, vec!["trg_1".to_owned()]);
    assert_eq!(s.outbox(USER).len(), 1);
    let subject = s.load_subject(USER).unwrap().unwrap();
    assert_eq!(subject.history.taken_keys, vec!["key_a".to_owned()]);
    assert_eq!(subject.milestones_achieved_at, [None; 4]);
    assert_eq!(s.batch_results("run_1"), vec![(0, 1, 1)]);
    assert_eq!(s.run_totals("run_1"), (1, 1));
    assert_eq!(
        s.decisions("run_1"),
        vec![row(0, USER, "inactivity", true, "threshold_reached")]
    );
}

fn a_second_write_of_the_same_batch_is_a_conflict_and_writes_nothing<S: BatchProbe>(s: &Arc<S>) {
    s.start_run("run_1");
    create(&**s, USER, t0());
    s.record_batch(&write(0, vec![fired_entry("trg_1", USER, "key_a", t0())]))
        .unwrap();

    let mut again = fired_entry("trg_2", USER, "key_b", t0());
    again.milestones_seen = vec![(MilestoneType::Sessions10, t0())];
    let err = s.record_batch(&write(0, vec![again])).unwrap_err();

    assert!(
        matches!(err, StoreError::Conflict("batch_results.batch_index")),
        "{err:?}"
    );
    assert_only_batch_zero(&**s);
}

fn a_batch_failing_midway_writes_nothing<S: BatchProbe>(s: &Arc<S>) {
    s.start_run("run_1");
    create(&**s, USER, t0());
    s.record_batch(&write(0, vec![fired_entry("trg_1", USER, "key_a", t0())]))
        .unwrap();

    // The last entry's mentor was deleted after the batch read its
    // subjects: the whole batch fails, the first entries included.
    let mut first = fired_entry("trg_2", USER, "key_b", t0());
    first.milestones_seen = vec![(MilestoneType::Sessions10, t0())];
    let mut ghost = fired_entry("trg_3", "usr_ghost", "key_c", t0());
    ghost.enqueue = None;
    let err = s.record_batch(&write(1, vec![first, ghost])).unwrap_err();

    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert_only_batch_zero(&**s);
}

fn several_batches_are_written_all_or_nothing<S: BatchProbe>(s: &Arc<S>) {
    s.start_run("run_1");
    create(&**s, USER, t0());
    s.record_batch(&write(0, vec![fired_entry("trg_1", USER, "key_a", t0())]))
        .unwrap();
    let next = || {
        let mut e = fired_entry("trg_2", USER, "key_b", t0());
        e.milestones_seen = vec![(MilestoneType::Sessions10, t0())];
        write(1, vec![e])
    };

    // Batch 1 is fine, but batch 0 is written already: neither is written.
    let again = write(0, vec![fired_entry("trg_3", USER, "key_c", t0())]);
    let err = s.record_batches(&[next(), again]).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("batch_results.batch_index")),
        "{err:?}"
    );
    assert_only_batch_zero(&**s);

    // Batch 2 is about a mentor deleted meanwhile: batch 1 goes with it.
    let mut ghost = fired_entry("trg_4", "usr_ghost", "key_d", t0());
    ghost.enqueue = None;
    let err = s
        .record_batches(&[next(), write(2, vec![ghost])])
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert_only_batch_zero(&**s);

    // Two good batches: both, and the run's totals count both.
    let last = write(2, vec![fired_entry("trg_5", USER, "key_e", t0())]);
    let outcomes = s.record_batches(&[next(), last]).unwrap();
    let sent: Vec<i64> = outcomes.iter().map(|o| o.notifications_sent).collect();
    assert_eq!(sent, [1, 1]);
    assert_eq!(
        s.batch_results("run_1"),
        vec![(0, 1, 1), (1, 1, 1), (2, 1, 1)]
    );
    assert_eq!(s.run_totals("run_1"), (3, 3));
    assert_eq!(s.outbox(USER).len(), 3);
    assert!(s.record_batches(&[]).unwrap().is_empty());
}

fn run_totals_and_batch_results_grow_with_each_batch<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    s.start_run("run_1");
    for id in ["usr_1", "usr_2", "usr_3"] {
        inactive_mentor(&**s, id);
    }
    create(&**s, "usr_4", t0());

    let first = services
        .batches
        .evaluate_batch(BatchRequest::new("run_1", 0, ids(&["usr_1", "usr_2"])))
        .unwrap();
    assert_eq!((first.users_evaluated, first.notifications_sent), (2, 2));
    assert_eq!(s.run_totals("run_1"), (2, 2));

    let second = services
        .batches
        .evaluate_batch(BatchRequest::new(
            "run_1",
            1,
            ids(&["usr_3", "usr_4", "usr_nobody"]),
        ))
        .unwrap();
    assert_eq!((second.users_evaluated, second.notifications_sent), (2, 1));
    assert_eq!(s.run_totals("run_1"), (4, 3));
    // A run's totals are the sums of its batches'.
    assert_eq!(s.batch_results("run_1"), vec![(0, 2, 2), (1, 2, 1)]);
    // Another run's totals are its own.
    s.start_run("run_2");
    assert_eq!(s.run_totals("run_2"), (0, 0));
}

fn a_dry_run_batch_records_decisions_and_changes_nothing_else<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    s.start_run("run_1");
    let upsert = MentorUpsert {
        last_active_at: Some(last_active()),
        sessions_count: Some(12),
        first_session_at: Some(utc(2026, 1, 5, 17, 0, 0)),
        ..in_org()
    };
    s.upsert_mentor(USER, &upsert, t0()).unwrap();
    let before = s.load_subject(USER).unwrap().unwrap();

    let mut request = BatchRequest::new("run_1", 0, ids(&[USER]));
    request.dry_run = true;
    let report = services.batches.evaluate_batch(request).unwrap();

    assert_eq!(report.notifications_sent, 0);
    assert!(report.results.iter().all(|r| !r.notified));
    // It reports what a real batch would do: inactivity and the first
    // milestone fire, the second milestone waits for the cooldown.
    let codes: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.reason_code.as_str())
        .collect();
    assert_eq!(
        codes,
        ["threshold_reached", "milestone_reached", "no_certification"]
    );
    let recorded = s.list_evaluations(&by_run("run_1"), all()).unwrap();
    assert_eq!(recorded.total, 3);
    assert!(recorded.rows.iter().all(|e| e.dry_run));
    assert_eq!(s.outbox(USER), vec![]);
    assert_eq!(s.load_subject(USER).unwrap().unwrap(), before);
    assert_eq!(s.decisions("run_1").len(), 3);
    assert_eq!(s.run_totals("run_1"), (1, 0));
    assert_eq!(s.batch_results("run_1"), vec![(0, 1, 0)]);
}

fn deleting_a_mentor_erases_their_per_user_results_only<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    s.start_run("run_1");
    inactive_mentor(&**s, USER);
    inactive_mentor(&**s, "usr_other");
    services
        .batches
        .evaluate_batch(BatchRequest::new("run_1", 0, ids(&[USER, "usr_other"])))
        .unwrap();
    assert_eq!(s.decisions("run_1").len(), 6);

    assert!(s.delete_mentor(USER).unwrap());

    let left = s.decisions("run_1");
    assert_eq!(left.len(), 3);
    assert!(left.iter().all(|d| d.1 == "usr_other"));
    if let Some(rows) = s.rows_about(USER) {
        assert!(rows.iter().all(|(_, n)| *n == 0), "{rows:?}");
    }
    // The batch result and the run's totals are about the run, not the mentor.
    assert_eq!(s.batch_results("run_1"), vec![(0, 2, 2)]);
}

// ---------------------------------------------------------------- runs end to end

/// Mentors in five groups of `per_group`, from `usr_gen_00000` on:
/// inactive for 9 days (inactivity fires), 12 sessions since January (the
/// first milestone fires), a certification expiring in 10 days (stage 14
/// fires), paused (nothing), recently active (nothing).
fn generate<S: BatchProbe>(s: &S, per_group: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..per_group * 5 {
        let id = format!("usr_gen_{i:05}");
        let recent = Some(t0() - TimeDelta::days(1));
        let upsert = match i % 5 {
            0 | 3 => MentorUpsert {
                last_active_at: Some(last_active()),
                ..in_org()
            },
            1 => MentorUpsert {
                last_active_at: recent,
                sessions_count: Some(12),
                first_session_at: Some(utc(2026, 1, 5, 17, 0, 0)),
                ..in_org()
            },
            _ => MentorUpsert {
                last_active_at: recent,
                ..in_org()
            },
        };
        s.upsert_mentor(&id, &upsert, t0()).unwrap();
        if i % 5 == 2 {
            let expiry = t0() + TimeDelta::days(10);
            s.put_certification(&id, &cert("cert_first_aid", expiry, true), t0())
                .unwrap();
        }
        if i % 5 == 3 {
            let pause = Pause {
                reason: PauseReason::Admin,
                since: t0(),
                until: None,
            };
            s.set_status(&id, MentorStatus::Paused, Some(&pause), t0())
                .unwrap();
        }
        ids.push(id);
    }
    ids
}

/// Plans the run from the active mentors in pages and evaluates it in
/// batches of `size`; returns the reason codes counted over all results.
fn run<S: BatchProbe>(
    s: &S,
    services: &Services,
    run_id: &str,
    size: usize,
) -> BTreeMap<String, usize> {
    s.start_run(run_id);
    let mut codes = BTreeMap::new();
    let mut after: Option<String> = None;
    let mut index = 0;
    loop {
        let page = services
            .batches
            .active_user_ids_after(after.as_deref(), 120)
            .unwrap();
        let Some(last) = page.last().cloned() else {
            break;
        };
        for chunk in page.chunks(size) {
            let report = services
                .batches
                .evaluate_batch(BatchRequest::new(run_id, index, chunk.to_vec()))
                .unwrap();
            index += 1;
            for r in report.results {
                *codes.entry(r.reason_code).or_default() += 1;
            }
        }
        after = Some(last);
    }
    codes
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn a_run_over_generated_mentors_gives_the_expected_counts<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    generate(&**s, 60);

    let codes = run(&**s, &services, "run_1", 50);

    // 240 active mentors (the paused group is not planned), 3 results each.
    assert_eq!(
        codes,
        counts(&[
            ("threshold_reached", 60),
            ("threshold_not_reached", 180),
            ("milestone_reached", 60),
            ("milestone_not_reached", 180),
            ("expiry_within_lead_time", 60),
            ("no_certification", 180),
        ])
    );
    assert_eq!(s.run_totals("run_1"), (240, 180));
    let batches = s.batch_results("run_1");
    // Pages of 120 ids cut into batches of 50.
    assert_eq!(
        batches.iter().map(|b| b.1).collect::<Vec<_>>(),
        [50, 50, 20, 50, 50, 20]
    );
    assert_eq!(batches.iter().map(|b| b.2).sum::<i64>(), 180);
    assert_eq!(s.decisions("run_1").len(), 240 * 3);

    // The paused mentors are evaluated when an orchestrator names them.
    let paused: Vec<String> = (0..5)
        .map(|i| format!("usr_gen_{:05}", i * 5 + 3))
        .collect();
    let report = services
        .batches
        .evaluate_batch(BatchRequest::new("run_1", 99, paused))
        .unwrap();
    assert_eq!((report.users_evaluated, report.notifications_sent), (5, 0));
    assert!(
        report
            .results
            .iter()
            .all(|r| r.reason_code == "mentor_paused")
    );
}

/// What `serve --demo` promises: a run right after seeding fires real
/// notifications of every scenario type, and skips the paused and inactive.
fn a_run_over_500_demo_mentors_notifies_every_scenario_type<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    let records: Vec<MentorRecord> = demo_mentors(500, t0()).collect();
    let active = records
        .iter()
        .filter(|r| r.mentor.status == MentorStatus::Active)
        .count();
    s.insert_records(records);
    for org in DEMO_ORGS {
        let filter = scenario_engine::service::MentorFilter {
            org_id: Some(org.to_owned()),
            ..Default::default()
        };
        assert_eq!(s.list_mentors(&filter, all()).unwrap().total, 100, "{org}");
    }

    let codes = run(&**s, &services, "run_demo", 50);

    for fired in [
        "threshold_reached",
        "milestone_reached",
        "expiry_within_lead_time",
    ] {
        assert!(
            codes.get(fired).is_some_and(|&n| n >= 5),
            "{fired}: {codes:?}"
        );
    }
    assert!(codes.contains_key("preference_disabled"), "{codes:?}");
    let (users, notifications) = s.run_totals("run_demo");
    assert_eq!(users, i64::try_from(active).unwrap());
    assert!(
        users < 500,
        "paused and inactive demo mentors are not planned"
    );
    assert!(notifications >= 50, "{notifications} notifications");
}

fn a_second_run_inside_the_cooldown_dispatches_nothing_new<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    generate(&**s, 20);
    run(&**s, &services, "run_1", 50);
    assert_eq!(s.run_totals("run_1"), (80, 60));

    services.clock.advance(TimeDelta::days(1));
    let codes = run(&**s, &services, "run_2", 50);

    assert_eq!(s.run_totals("run_2"), (80, 0));
    // Inactivity (20) and the second milestone (20) wait for the cooldown;
    // the expiry stage was notified (20).
    assert_eq!(codes.get("cooldown_active"), Some(&40), "{codes:?}");
    assert_eq!(codes.get("already_notified"), Some(&20), "{codes:?}");
    let outbox: usize = (0..100)
        .map(|i| s.outbox(&format!("usr_gen_{i:05}")).len())
        .sum();
    assert_eq!(outbox, 60);
}

fn of_two_milestones_reached_at_once_the_second_waits_for_the_cooldown<S: BatchProbe>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    let upsert = MentorUpsert {
        last_active_at: Some(t0() - TimeDelta::days(1)),
        sessions_count: Some(12),
        first_session_at: Some(utc(2026, 1, 5, 17, 0, 0)),
        ..in_org()
    };
    s.upsert_mentor(USER, &upsert, t0()).unwrap();
    s.start_run("run_1");
    services
        .batches
        .evaluate_batch(BatchRequest::new("run_1", 0, ids(&[USER])))
        .unwrap();
    let milestone_codes = |run_id: &str| -> Vec<(String, String)> {
        let mut rows = s
            .list_evaluations(
                &EvaluationFilter {
                    scenario_type: Some(ScenarioType::Milestone),
                    ..by_run(run_id)
                },
                all(),
            )
            .unwrap()
            .rows;
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows.into_iter()
            .map(|e| {
                let t = e.evaluation_metadata.to_value()["milestone_type"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                (e.reason_code.as_str().to_owned(), t)
            })
            .collect()
    };
    // One milestone evaluation per run: the one that fired.
    assert_eq!(
        milestone_codes("run_1"),
        [(
            "milestone_reached".to_owned(),
            "first_session_completed".to_owned()
        )]
    );
    assert_eq!(s.outbox(USER).len(), 1);

    // After the cooldown, a later run congratulates the second one.
    services.clock.advance(TimeDelta::days(3));
    s.start_run("run_2");
    services
        .batches
        .evaluate_batch(BatchRequest::new("run_2", 0, ids(&[USER])))
        .unwrap();
    assert_eq!(
        milestone_codes("run_2"),
        [("milestone_reached".to_owned(), "sessions_10".to_owned())]
    );
    let keys: Vec<String> = s.outbox(USER).into_iter().map(|n| n.dedupe_key).collect();
    assert!(keys.contains(&format!("milestone:{USER}:first_session_completed")));
    assert!(keys.contains(&format!("milestone:{USER}:sessions_10")));
}
