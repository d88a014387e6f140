//! Retention through the ports (`Outbox::prune_settled_before`,
//! `MentorRepository::prune_activity_events_before`,
//! `EvaluationRepository::prune_evaluations_before`) on the in-memory store,
//! SQLite and PostgreSQL: each call deletes one chunk of at most its limit,
//! in one transaction, so rows past one chunk go in several; pending and
//! failed notifications and dedupe keys are never pruned.

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

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use scenario_engine::rules::{ReasonCode, Rules, Scenario, ScenarioType};
use scenario_engine::service::{
    ActivityOutcome, ClaimRequest, EvaluationFilter, EvaluationOverride, MentorUpsert,
    NotificationFilter, NotificationStatus, Outbox, Outcome, PageRequest, Settled,
};

use common::{Repo, Services, create, evaluation, event, id_carrying, notification, recorded, t0};

#[macro_use]
mod three_stores;

three_store_tests![
    scenario_engine::adapters::InMemoryStore::default() =>
    settled_notifications_go_in_chunks_and_pending_failed_and_recent_ones_stay,
    activity_events_go_in_chunks_by_when_they_were_recorded,
    evaluations_go_in_chunks_oldest_first_and_their_notifications_stay,
    a_pruned_notifications_dedupe_key_still_makes_its_decision_once_only,
];

trait Store: Repo + Outbox {}
impl<T: Repo + Outbox> Store for T {}

const USER: &str = "usr_mentor_7821";

/// What retention keeps: 100 days.
fn cutoff() -> DateTime<Utc> {
    t0() - TimeDelta::days(100)
}

/// Enqueues `ntf_{key}` at `at` with its evaluation `trg_{key}`; returns its id.
fn enqueue<S: Store>(s: &S, key: &str, at: DateTime<Utc>) -> String {
    let e = evaluation(
        &id_carrying("trg", key, at),
        USER,
        ScenarioType::Inactivity,
        true,
        at,
    );
    let id = id_carrying("ntf", key, at);
    s.record_evaluation(
        &e,
        Some(&notification(&id, &e, &format!("key_{key}"))),
        None,
    )
    .unwrap();
    id
}

/// Claims every due notification at `now`, and settles each as `outcome` says.
fn settle_all<S: Store>(s: &S, now: DateTime<Utc>, outcome: impl Fn(&str) -> Option<Outcome>) {
    let request = ClaimRequest {
        now,
        limit: 500,
        until: now + TimeDelta::seconds(60),
        max_attempts: 8,
    };
    let settled: Vec<Settled> = s
        .claim_due(&request)
        .unwrap()
        .into_iter()
        .filter_map(|d| {
            outcome(&d.claim.id).map(|outcome| Settled {
                claim: d.claim,
                outcome,
            })
        })
        .collect();
    s.record_outcomes(&settled, now).unwrap();
}

/// Calls `chunk` until it deletes fewer rows than `limit`; the rows each call deleted.
fn chunks(limit: u32, chunk: impl Fn(u32) -> u64) -> Vec<u64> {
    let mut deleted = Vec::new();
    loop {
        let n = chunk(limit);
        assert!(
            n <= u64::from(limit),
            "a chunk of {n} past the limit {limit}"
        );
        deleted.push(n);
        if n < u64::from(limit) {
            return deleted;
        }
    }
}

fn statuses<S: Store>(s: &S) -> Vec<(String, NotificationStatus)> {
    let page = PageRequest {
        page: 1,
        limit: 100,
    };
    let mut rows: Vec<(String, NotificationStatus)> = s
        .list_notifications(&NotificationFilter::default(), page)
        .unwrap()
        .rows
        .into_iter()
        .map(|n| (n.id, n.status))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn settled_notifications_go_in_chunks_and_pending_failed_and_recent_ones_stay<S: Store>(
    s: &Arc<S>,
) {
    create(&**s, USER, t0() - TimeDelta::days(400));
    let old = |i: i64| t0() - TimeDelta::days(200) + TimeDelta::minutes(i);
    let delivered: Vec<String> = (0..20)
        .map(|i| enqueue(&**s, &format!("d{i:02}"), old(i)))
        .collect();
    let cancelled: Vec<String> = (0..5)
        .map(|i| enqueue(&**s, &format!("c{i}"), old(i)))
        .collect();
    let failed: Vec<String> = (0..2)
        .map(|i| enqueue(&**s, &format!("f{i}"), old(i)))
        .collect();
    let pending: Vec<String> = (0..3)
        .map(|i| enqueue(&**s, &format!("p{i}"), old(i)))
        .collect();
    let recent: Vec<String> = (0..2)
        .map(|i| {
            enqueue(
                &**s,
                &format!("r{i}"),
                t0() - TimeDelta::days(1) + TimeDelta::minutes(i),
            )
        })
        .collect();
    for id in &cancelled {
        let evaluation_id = s
            .get_notification(id)
            .unwrap()
            .unwrap()
            .evaluation_id
            .unwrap();
        let change = EvaluationOverride {
            should_notify: Some(false),
            evaluation_metadata: None,
        };
        s.override_evaluation(&evaluation_id, &change, t0())
            .unwrap();
    }
    settle_all(&**s, t0(), |id| {
        if failed.iter().any(|f| f == id) {
            Some(Outcome::Failed {
                error: "receiver said 410".into(),
            })
        } else if pending.iter().any(|p| p == id) {
            None
        } else {
            Some(Outcome::Delivered)
        }
    });

    let deleted = chunks(10, |limit| s.prune_settled_before(cutoff(), limit).unwrap());
    assert_eq!(
        deleted,
        [10, 10, 5],
        "25 settled before the cutoff, in three transactions"
    );
    let mut kept: Vec<(String, NotificationStatus)> = failed
        .iter()
        .map(|id| (id.clone(), NotificationStatus::Failed))
        .chain(
            pending
                .iter()
                .map(|id| (id.clone(), NotificationStatus::Pending)),
        )
        .chain(
            recent
                .iter()
                .map(|id| (id.clone(), NotificationStatus::Delivered)),
        )
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(statuses(&**s), kept);
    assert!(
        delivered
            .iter()
            .all(|id| s.get_notification(id).unwrap().is_none())
    );
    // Every dedupe key stays (where the store can count them).
    if let Some(rows) = s.rows_about(USER) {
        let keys = rows
            .iter()
            .find(|(t, _)| *t == "notification_keys")
            .unwrap()
            .1;
        assert_eq!(keys, 32);
    }
}

fn activity_events_go_in_chunks_by_when_they_were_recorded<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0() - TimeDelta::days(400));
    let at = t0() - TimeDelta::days(300);
    for i in 0..10 {
        let recorded_at = t0() - TimeDelta::days(200) + TimeDelta::minutes(i);
        recorded(
            &**s,
            USER,
            &event(Some(&format!("ev_old_{i}")), "login", at),
            recorded_at,
        );
    }
    // Recorded recently, about an old moment: kept, since it is the
    // recording that ages.
    recorded(
        &**s,
        USER,
        &event(Some("ev_new"), "login", at),
        t0() - TimeDelta::days(1),
    );

    let deleted = chunks(4, |limit| {
        s.prune_activity_events_before(cutoff(), limit).unwrap()
    });
    assert_eq!(deleted, [4, 4, 2]);
    let replay = s
        .record_activity(USER, &event(Some("ev_new"), "login", at), t0())
        .unwrap();
    assert!(
        matches!(replay, Some(ActivityOutcome::Replayed(_))),
        "{replay:?}"
    );
    // A pruned event id is new again.
    let again = s
        .record_activity(USER, &event(Some("ev_old_3"), "login", at), t0())
        .unwrap();
    assert!(
        matches!(again, Some(ActivityOutcome::Recorded(_))),
        "{again:?}"
    );
    if let Some(rows) = s.rows_about(USER) {
        let events = rows
            .iter()
            .find(|(t, _)| *t == "activity_events")
            .unwrap()
            .1;
        assert_eq!(events, 2);
    }
}

fn evaluations_go_in_chunks_oldest_first_and_their_notifications_stay<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0() - TimeDelta::days(400));
    let old = |i: i64| t0() - TimeDelta::days(200) + TimeDelta::minutes(i);
    let notified = enqueue(&**s, "n0", old(0));
    for i in 1..7 {
        let e = evaluation(
            &id_carrying("trg", &format!("q{i}"), old(i)),
            USER,
            ScenarioType::Milestone,
            false,
            old(i),
        );
        s.record_evaluation(&e, None, None).unwrap();
    }
    let recent = t0() - TimeDelta::days(1);
    let kept = evaluation(
        &id_carrying("trg", "k", recent),
        USER,
        ScenarioType::Milestone,
        false,
        recent,
    );
    s.record_evaluation(&kept, None, None).unwrap();

    let deleted = chunks(3, |limit| {
        s.prune_evaluations_before(cutoff(), limit).unwrap()
    });
    assert_eq!(deleted, [3, 3, 1]);
    let page = PageRequest {
        page: 1,
        limit: 100,
    };
    let left = s
        .list_evaluations(&EvaluationFilter::default(), page)
        .unwrap();
    let ids: Vec<&str> = left.rows.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [kept.id.as_str()]);
    let n = s.get_notification(&notified).unwrap().unwrap();
    assert_eq!(n.evaluation_id, None, "the notification stays, unlinked");
}

/// Pruning a delivered notification takes it out of the cooldown's facts
/// (retention keeps what the cooldown can still read, docs/runs.md), but
/// not its dedupe key: the same decision stays once only.
fn a_pruned_notifications_dedupe_key_still_makes_its_decision_once_only<S: Store>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    services
        .mentors
        .upsert(
            USER,
            MentorUpsert {
                org_id: Some("org_oslo_01".into()),
                last_active_at: Some(t0() - TimeDelta::days(9)),
                ..MentorUpsert::default()
            },
        )
        .unwrap();
    let first = services.evaluate(USER, Scenario::inactivity(Some(7)).unwrap());
    assert!(first.should_notify);
    settle_all(&**s, t0(), |_| Some(Outcome::Delivered));
    assert_eq!(
        s.prune_settled_before(t0() + TimeDelta::seconds(1), 10)
            .unwrap(),
        1
    );
    assert!(statuses(&**s).is_empty());

    let again = services.evaluate(USER, Scenario::inactivity(Some(7)).unwrap());
    assert!(!again.should_notify);
    assert_eq!(again.reason_code, ReasonCode::AlreadyNotified);
    assert!(statuses(&**s).is_empty(), "nothing enqueued again");
}
