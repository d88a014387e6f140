//! Several decisions of one mentor in a batch, and groups of batches.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone};

use super::*;
use crate::adapters::{FixedClock, InMemoryStore, UlidIds};
use crate::service::{
    EvaluationFilter, EvaluationRepository, MentorRepository, MentorUpsert, PageRequest,
};

const USER: &str = "usr_mentor_7821";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap()
}

/// A mentor active yesterday who reached two milestones at once (the
/// first session and ten sessions) without being congratulated yet.
fn store() -> Arc<InMemoryStore> {
    let store = Arc::new(InMemoryStore::default());
    let upsert = MentorUpsert {
        org_id: Some("org_oslo_01".into()),
        last_active_at: Some(now() - TimeDelta::days(1)),
        sessions_count: Some(12),
        first_session_at: Some(Utc.with_ymd_and_hms(2026, 1, 5, 17, 0, 0).unwrap()),
        ..MentorUpsert::default()
    };
    store.upsert_mentor(USER, &upsert, now()).unwrap();
    store
}

fn run(store: &Arc<InMemoryStore>, rules: Rules) -> (BatchReport, Vec<String>) {
    let batches = BatchEvaluator::new(
        store.clone(),
        Arc::new(FixedClock::new(now())),
        Arc::new(UlidIds::new()),
        rules,
    );
    let report = batches
        .evaluate_batch(BatchRequest::new("run_1", 0, vec![USER.into()]))
        .unwrap();
    let filter = EvaluationFilter {
        scenario_type: Some(ScenarioType::Milestone),
        ..EvaluationFilter::default()
    };
    let page = PageRequest {
        page: 1,
        limit: 100,
    };
    let mut milestones: Vec<String> = store
        .list_evaluations(&filter, page)
        .unwrap()
        .rows
        .into_iter()
        .map(|e| {
            format!(
                "{} {}",
                e.evaluation_metadata.to_value()["milestone_type"],
                e.reason_code
            )
        })
        .collect();
    milestones.sort();
    (report, milestones)
}

#[test]
fn a_group_with_a_failing_batch_still_writes_the_others() {
    let store = store();
    let batches = BatchEvaluator::new(
        store.clone(),
        Arc::new(FixedClock::new(now())),
        Arc::new(UlidIds::new()),
        Rules::default(),
    );
    let prepare = |index| {
        batches
            .prepare_batch(BatchRequest::new("run_1", index, vec![USER.into()]))
            .unwrap()
            .into_write()
    };
    assert!(batches.commit_batches(&[prepare(1)])[0].is_ok());
    // Batch 1 is written already: the group's one write fails, then
    // batches 0 and 2 are written on their own.
    let results = batches.commit_batches(&[prepare(0), prepare(1), prepare(2)]);
    let ok: Vec<Option<i64>> = results
        .iter()
        .map(|r| r.as_ref().ok().map(|t| t.batch_index))
        .collect();
    assert_eq!(ok, [Some(0), None, Some(2)]);
    assert!(matches!(
        results[1],
        Err(EvaluationError::Store(
            crate::service::StoreError::Conflict("batch_results.batch_index")
        ))
    ));
    let written: Vec<i64> = store
        .batch_results("run_1")
        .into_iter()
        .map(|(index, _)| index)
        .collect();
    assert_eq!(written, [0, 1, 2]);
}

#[test]
fn the_four_milestone_types_make_one_evaluation_when_one_fires() {
    let store = store();
    let (report, milestones) = run(&store, Rules::default());
    assert_eq!(
        milestones,
        [r#""first_session_completed" milestone_reached"#]
    );
    assert_eq!(report.notifications_sent, 1);
    // Both milestones seen are recorded, also the one not kept.
    let subject = store.load_subject(USER).unwrap().unwrap();
    let seen = subject.milestones_achieved_at;
    assert!(seen[MilestoneType::FirstSessionCompleted.index()].is_some());
    assert!(seen[MilestoneType::Sessions10.index()].is_some());
    assert!(seen[MilestoneType::Sessions50.index()].is_none());
}

#[test]
fn every_milestone_that_fires_is_kept_when_no_cooldown_holds_them_back() {
    let store = store();
    let rules = Rules::default().with_cooldown_days(0).unwrap();
    let (report, milestones) = run(&store, rules);
    assert_eq!(
        milestones,
        [
            r#""first_session_completed" milestone_reached"#,
            r#""sessions_10" milestone_reached"#,
        ]
    );
    assert_eq!(report.notifications_sent, 2);
}

#[test]
fn without_a_milestone_reached_the_reported_one_says_so() {
    let store = Arc::new(InMemoryStore::default());
    let upsert = MentorUpsert {
        org_id: Some("org_oslo_01".into()),
        last_active_at: Some(now() - TimeDelta::days(1)),
        ..MentorUpsert::default()
    };
    store.upsert_mentor(USER, &upsert, now()).unwrap();
    let (report, milestones) = run(&store, Rules::default());
    assert_eq!(
        milestones,
        [r#""first_session_completed" milestone_not_reached"#]
    );
    let types: Vec<_> = report.results.iter().map(|r| r.scenario_type).collect();
    assert_eq!(
        types,
        [
            Some(ScenarioType::Inactivity),
            Some(ScenarioType::Milestone),
            Some(ScenarioType::CertificationExpiry)
        ],
        "one result per scenario type, in the order of the scenarios"
    );
}
