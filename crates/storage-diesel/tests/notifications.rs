//! The `Outbox` contract (scenario-engine `outbox.rs`) on the in-memory
//! store, SQLite and PostgreSQL: claims that count the attempt and hide the
//! row until they lapse, batches of outcomes fenced by their claims, racing
//! claimers, the notification list and the retry of a failed notification,
//! and the cooldown over delivered and failed notifications.

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
use std::sync::{Arc, Barrier};

use chrono::{DateTime, TimeDelta, Utc};
use scenario_engine::rules::{Rules, Scenario, ScenarioType};
use scenario_engine::service::{
    AttemptResult, CLAIM_LAPSED_ERROR, Claim, ClaimRequest, Delivery, EvaluationOverride,
    MentorUpsert, Notification, NotificationFilter, NotificationStatus, Outbox, OutboxService,
    Outcome, PageRequest, Requeue, RetryPolicy, Settled,
};

use common::{Repo, Services, create, evaluation, id_carrying, notification, t0, utc};

#[macro_use]
mod three_stores;

three_store_tests![
    scenario_engine::adapters::InMemoryStore::default() =>
    a_claim_takes_due_pending_notifications_in_due_order_and_counts_the_attempt,
    a_claimed_notification_is_not_claimed_again_until_its_claim_lapses,
    only_due_pending_notifications_are_ever_claimed,
    a_batch_of_outcomes_is_written_and_a_stale_claim_changes_nothing,
    a_claim_that_lapsed_after_the_last_attempt_fails_the_notification,
    next_due_is_the_earliest_next_attempt_at_of_a_pending_notification,
    the_list_is_newest_first_filtered_and_paged,
    requeue_moves_only_a_failed_notification_back_with_a_fresh_budget,
    racing_claims_never_hand_out_one_notification_twice,
    the_cooldown_counts_pending_and_delivered_notifications_not_failed_ones,
];

trait Store: Repo + Outbox {}
impl<T: Repo + Outbox> Store for T {}

const USER: &str = "usr_mentor_7821";
const OTHER: &str = "usr_mentor_4402";

/// Enqueues `ntf_{key}` for `user_id` at `at` (its evaluation `trg_{key}`),
/// in `run` if given; returns the notification id.
fn enqueue<S: Store>(
    s: &S,
    key: &str,
    user_id: &str,
    scenario: ScenarioType,
    at: DateTime<Utc>,
    run: Option<&str>,
) -> String {
    let mut e = evaluation(&format!("trg_{key}"), user_id, scenario, true, at);
    e.run_id = run.map(str::to_owned);
    let id = id_carrying("ntf", key, at);
    let n = notification(&id, &e, &format!("{scenario}:{user_id}:{key}"));
    s.record_evaluation(&e, Some(&n), None).unwrap();
    id
}

fn request(now: DateTime<Utc>, limit: u32) -> ClaimRequest {
    ClaimRequest {
        now,
        limit,
        until: now + TimeDelta::seconds(60),
        max_attempts: 8,
    }
}

fn claimed_ids(batch: &[Delivery]) -> Vec<&str> {
    batch.iter().map(|d| d.claim.id.as_str()).collect()
}

fn get<S: Store>(s: &S, id: &str) -> Notification {
    s.get_notification(id).unwrap().unwrap()
}

fn settled(d: &Delivery, outcome: Outcome) -> Settled {
    Settled {
        claim: d.claim.clone(),
        outcome,
    }
}

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        limit: 100,
    }
}

fn a_claim_takes_due_pending_notifications_in_due_order_and_counts_the_attempt<S: Store>(
    s: &Arc<S>,
) {
    create(&**s, USER, t0());
    let c = enqueue(
        &**s,
        "c",
        USER,
        ScenarioType::Inactivity,
        t0() + TimeDelta::minutes(2),
        None,
    );
    let a = enqueue(&**s, "a", USER, ScenarioType::Milestone, t0(), None);
    let b = enqueue(
        &**s,
        "b",
        USER,
        ScenarioType::CertificationExpiry,
        t0() + TimeDelta::minutes(1),
        None,
    );
    let before = get(&**s, &a);
    assert_eq!(
        (before.status, before.attempts, before.next_attempt_at),
        (NotificationStatus::Pending, 0, Some(t0()))
    );

    let now = t0() + TimeDelta::minutes(1);
    let batch = s.claim_due(&request(now, 10)).unwrap();
    assert_eq!(
        claimed_ids(&batch),
        [a.as_str(), b.as_str()],
        "due ones, earliest first"
    );
    let until = now + TimeDelta::seconds(60);
    for d in &batch {
        assert_eq!(d.claim.attempt, 1);
        assert_eq!(d.claim.until, until);
        assert_eq!(d.notification.attempts, 1);
        assert_eq!(d.notification.status, NotificationStatus::Pending);
        assert_eq!(d.notification.next_attempt_at, Some(until));
        assert_eq!(d.notification.updated_at, now);
        assert_eq!(d.notification, get(&**s, &d.claim.id), "returned as stored");
    }
    assert_eq!(
        batch[0].notification.payload.to_value()["notification_id"],
        a.as_str()
    );
    assert_eq!(get(&**s, &c).attempts, 0, "not due yet");

    // A limit takes the earliest only.
    let done: Vec<Settled> = batch
        .iter()
        .map(|d| settled(d, Outcome::Delivered))
        .collect();
    assert_eq!(s.record_outcomes(&done, now).unwrap(), 2);
    enqueue(
        &**s,
        "d",
        USER,
        ScenarioType::Inactivity,
        t0() + TimeDelta::minutes(3),
        None,
    );
    let later = t0() + TimeDelta::minutes(5);
    let one = s.claim_due(&request(later, 1)).unwrap();
    assert_eq!(claimed_ids(&one), [c.as_str()]);
    assert!(s.claim_due(&request(later, 0)).unwrap().is_empty());
}

fn a_claimed_notification_is_not_claimed_again_until_its_claim_lapses<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let a = enqueue(&**s, "a", USER, ScenarioType::Inactivity, t0(), None);
    let first = s.claim_due(&request(t0(), 10)).unwrap();
    assert_eq!(claimed_ids(&first), [a.as_str()]);
    let lapse = t0() + TimeDelta::seconds(60);
    assert!(
        s.claim_due(&request(lapse - TimeDelta::milliseconds(1), 10))
            .unwrap()
            .is_empty()
    );

    // The worker holding it died: once the claim lapses, another worker takes it.
    let second = s.claim_due(&request(lapse, 10)).unwrap();
    assert_eq!(claimed_ids(&second), [a.as_str()]);
    assert_eq!(second[0].claim.attempt, 2);

    // The first worker comes back late: its outcome is fenced off.
    let stale = settled(&first[0], Outcome::Delivered);
    assert_eq!(s.record_outcomes(&[stale], lapse).unwrap(), 0);
    let n = get(&**s, &a);
    assert_eq!((n.status, n.attempts), (NotificationStatus::Pending, 2));
    assert_eq!(
        s.record_outcomes(&[settled(&second[0], Outcome::Delivered)], lapse)
            .unwrap(),
        1
    );
    assert_eq!(get(&**s, &a).status, NotificationStatus::Delivered);
}

fn only_due_pending_notifications_are_ever_claimed<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let cancelled = enqueue(&**s, "x", USER, ScenarioType::Inactivity, t0(), None);
    let no = EvaluationOverride {
        should_notify: Some(false),
        evaluation_metadata: None,
    };
    s.override_evaluation("trg_x", &no, t0()).unwrap().unwrap();
    let n = get(&**s, &cancelled);
    assert_eq!(
        (n.status, n.next_attempt_at),
        (NotificationStatus::Cancelled, None)
    );
    let delivered = enqueue(&**s, "d", USER, ScenarioType::Milestone, t0(), None);
    let failed = enqueue(
        &**s,
        "f",
        USER,
        ScenarioType::CertificationExpiry,
        t0(),
        None,
    );
    let batch = s.claim_due(&request(t0(), 10)).unwrap();
    assert_eq!(claimed_ids(&batch), [delivered.as_str(), failed.as_str()]);
    let error = "HTTP 410".to_owned();
    s.record_outcomes(
        &[
            settled(&batch[0], Outcome::Delivered),
            settled(&batch[1], Outcome::Failed { error }),
        ],
        t0(),
    )
    .unwrap();
    let far = t0() + TimeDelta::days(365);
    assert!(s.claim_due(&request(far, 10)).unwrap().is_empty());
    assert_eq!(s.next_due().unwrap(), None);
}

fn a_batch_of_outcomes_is_written_and_a_stale_claim_changes_nothing<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let ids: Vec<String> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|k| enqueue(&**s, k, USER, ScenarioType::Inactivity, t0(), None))
        .collect();
    let batch = s.claim_due(&request(t0(), 10)).unwrap();
    assert_eq!(batch.len(), 6);
    // Cancelled while its delivery was under way: its outcome is fenced off
    // by the status, beside a delivery of the same claim that is written.
    let no = EvaluationOverride {
        should_notify: Some(false),
        evaluation_metadata: None,
    };
    s.override_evaluation("trg_f", &no, t0()).unwrap().unwrap();
    let cancelled = get(&**s, &ids[5]);
    assert_eq!(cancelled.status, NotificationStatus::Cancelled);
    let done = t0() + TimeDelta::seconds(3);
    let retry_at = t0() + TimeDelta::seconds(30);
    let mut stale = settled(&batch[3], Outcome::Delivered);
    stale.claim = Claim {
        attempt: 7,
        ..stale.claim
    };
    let outcomes = [
        settled(&batch[0], Outcome::Delivered),
        settled(
            &batch[1],
            Outcome::Retry {
                at: retry_at,
                error: "HTTP 503".into(),
            },
        ),
        settled(
            &batch[2],
            Outcome::Failed {
                error: "HTTP 400: bad payload".into(),
            },
        ),
        stale,
        settled(&batch[4], Outcome::Delivered),
        settled(&batch[5], Outcome::Delivered),
    ];
    assert_eq!(s.record_outcomes(&outcomes, done).unwrap(), 4);
    assert_eq!(get(&**s, &ids[4]).status, NotificationStatus::Delivered);
    assert_eq!(get(&**s, &ids[5]), cancelled, "the cancellation stands");

    let delivered = get(&**s, &ids[0]);
    assert_eq!(delivered.status, NotificationStatus::Delivered);
    assert_eq!(delivered.delivered_at, Some(done));
    assert_eq!(delivered.next_attempt_at, None);
    assert_eq!(delivered.last_error, None);
    assert_eq!(delivered.updated_at, done);
    assert_eq!(delivered.attempts, 1);

    let retried = get(&**s, &ids[1]);
    assert_eq!(retried.status, NotificationStatus::Pending);
    assert_eq!(retried.next_attempt_at, Some(retry_at));
    assert_eq!(retried.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(retried.delivered_at, None);
    assert_eq!(retried.updated_at, done);

    let failed = get(&**s, &ids[2]);
    assert_eq!(failed.status, NotificationStatus::Failed);
    assert_eq!(failed.next_attempt_at, None);
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 400: bad payload"));

    let untouched = get(&**s, &ids[3]);
    assert_eq!(
        untouched, batch[3].notification,
        "the stale claim wrote nothing"
    );

    // The retry comes due at its time, as attempt 2; delivered, it clears the error.
    assert!(
        s.claim_due(&request(retry_at - TimeDelta::seconds(1), 10))
            .unwrap()
            .iter()
            .all(|d| d.claim.id != ids[1])
    );
    let again = s.claim_due(&request(retry_at, 10)).unwrap();
    let again: Vec<&Delivery> = again.iter().filter(|d| d.claim.id == ids[1]).collect();
    assert_eq!(again[0].claim.attempt, 2);
    assert_eq!(
        s.record_outcomes(&[settled(again[0], Outcome::Delivered)], retry_at)
            .unwrap(),
        1
    );
    let n = get(&**s, &ids[1]);
    assert_eq!(
        (n.status, n.attempts, n.last_error),
        (NotificationStatus::Delivered, 2, None)
    );
    assert_eq!(s.record_outcomes(&[], done).unwrap(), 0);
}

fn a_claim_that_lapsed_after_the_last_attempt_fails_the_notification<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let a = enqueue(&**s, "a", USER, ScenarioType::Inactivity, t0(), None);
    let b = enqueue(
        &**s,
        "b",
        USER,
        ScenarioType::Milestone,
        t0() + TimeDelta::minutes(5),
        None,
    );
    let two = |now| ClaimRequest {
        max_attempts: 2,
        ..request(now, 10)
    };
    // Two attempts whose workers never report back.
    assert_eq!(s.claim_due(&two(t0())).unwrap()[0].claim.attempt, 1);
    assert_eq!(
        s.claim_due(&two(t0() + TimeDelta::minutes(1))).unwrap()[0]
            .claim
            .attempt,
        2
    );
    // The next claimer finds it out of attempts: failed, not attempted a third time.
    let later = t0() + TimeDelta::minutes(5);
    let batch = s.claim_due(&two(later)).unwrap();
    assert_eq!(
        claimed_ids(&batch),
        [b.as_str()],
        "the other due one is still claimed"
    );
    let n = get(&**s, &a);
    assert_eq!(n.status, NotificationStatus::Failed);
    assert_eq!(n.attempts, 2);
    assert_eq!(n.next_attempt_at, None);
    assert_eq!(n.last_error.as_deref(), Some(CLAIM_LAPSED_ERROR));
    assert_eq!(n.updated_at, later);
}

fn next_due_is_the_earliest_next_attempt_at_of_a_pending_notification<S: Store>(s: &Arc<S>) {
    assert_eq!(s.next_due().unwrap(), None);
    create(&**s, USER, t0());
    enqueue(
        &**s,
        "b",
        USER,
        ScenarioType::Milestone,
        t0() + TimeDelta::hours(1),
        None,
    );
    assert_eq!(s.next_due().unwrap(), Some(t0() + TimeDelta::hours(1)));
    enqueue(&**s, "a", USER, ScenarioType::Inactivity, t0(), None);
    assert_eq!(s.next_due().unwrap(), Some(t0()));
    // A claimed one counts with the end of its claim.
    let batch = s.claim_due(&request(t0(), 10)).unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(s.next_due().unwrap(), Some(t0() + TimeDelta::seconds(60)));
    s.record_outcomes(&[settled(&batch[0], Outcome::Delivered)], t0())
        .unwrap();
    assert_eq!(s.next_due().unwrap(), Some(t0() + TimeDelta::hours(1)));
}

fn the_list_is_newest_first_filtered_and_paged<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0());
    create(&**s, OTHER, t0());
    let minute = |m| t0() + TimeDelta::minutes(m);
    let n1 = enqueue(&**s, "1", USER, ScenarioType::Inactivity, minute(0), None);
    let n2 = enqueue(
        &**s,
        "2",
        OTHER,
        ScenarioType::Milestone,
        minute(1),
        Some("run_a"),
    );
    let n3 = enqueue(
        &**s,
        "3",
        USER,
        ScenarioType::Milestone,
        minute(2),
        Some("run_a"),
    );
    let n4 = enqueue(
        &**s,
        "4",
        OTHER,
        ScenarioType::CertificationExpiry,
        minute(3),
        Some("run_b"),
    );
    // Two at the same instant: the larger id first.
    let n5 = enqueue(
        &**s,
        "5",
        USER,
        ScenarioType::CertificationExpiry,
        minute(3),
        None,
    );
    let batch = s.claim_due(&request(minute(10), 10)).unwrap();
    let pick = |id: &str| batch.iter().find(|d| d.claim.id == id).unwrap();
    s.record_outcomes(
        &[
            settled(pick(&n2), Outcome::Delivered),
            settled(
                pick(&n3),
                Outcome::Failed {
                    error: "HTTP 404".into(),
                },
            ),
        ],
        minute(10),
    )
    .unwrap();

    let list = |f: NotificationFilter, page: PageRequest| {
        let p = s.list_notifications(&f, page).unwrap();
        (
            p.rows.into_iter().map(|n| n.id).collect::<Vec<_>>(),
            p.total,
        )
    };
    let every = NotificationFilter::default();
    assert_eq!(
        list(every.clone(), all()),
        (
            vec![n5.clone(), n4.clone(), n3.clone(), n2.clone(), n1.clone()],
            5
        )
    );
    let user = NotificationFilter {
        user_id: Some(USER.into()),
        ..NotificationFilter::default()
    };
    assert_eq!(
        list(user, all()),
        (vec![n5.clone(), n3.clone(), n1.clone()], 3)
    );
    let milestone = NotificationFilter {
        scenario_type: Some(ScenarioType::Milestone),
        ..NotificationFilter::default()
    };
    assert_eq!(list(milestone, all()), (vec![n3.clone(), n2.clone()], 2));
    let status = |st| NotificationFilter {
        status: Some(st),
        ..NotificationFilter::default()
    };
    assert_eq!(
        list(status(NotificationStatus::Delivered), all()),
        (vec![n2.clone()], 1)
    );
    assert_eq!(
        list(status(NotificationStatus::Failed), all()),
        (vec![n3.clone()], 1)
    );
    assert_eq!(list(status(NotificationStatus::Pending), all()).1, 3);
    assert_eq!(
        list(status(NotificationStatus::Cancelled), all()),
        (vec![], 0)
    );
    let run_a = NotificationFilter {
        run_id: Some("run_a".into()),
        ..NotificationFilter::default()
    };
    assert_eq!(list(run_a, all()), (vec![n3.clone(), n2.clone()], 2));
    let combined = NotificationFilter {
        user_id: Some(OTHER.into()),
        run_id: Some("run_b".into()),
        scenario_type: Some(ScenarioType::CertificationExpiry),
        status: Some(NotificationStatus::Pending),
        after: None,
    };
    assert_eq!(list(combined, all()), (vec![n4.clone()], 1));

    let page = |page, limit| PageRequest { page, limit };
    assert_eq!(
        list(every.clone(), page(1, 2)),
        (vec![n5.clone(), n4.clone()], 5)
    );
    assert_eq!(list(every.clone(), page(3, 2)), (vec![n1.clone()], 5));
    assert_eq!(list(every.clone(), page(4, 2)), (vec![], 5));

    // A cursor: the rows after an id, newest first, with the filters; the
    // total counts every match.
    let after = |id: &str, filter: NotificationFilter| NotificationFilter {
        after: Some(id.to_owned()),
        ..filter
    };
    assert_eq!(
        list(after(&n4, every.clone()), page(1, 2)),
        (vec![n3.clone(), n2.clone()], 5)
    );
    assert_eq!(
        list(after(&n2, every.clone()), page(1, 2)),
        (vec![n1.clone()], 5)
    );
    assert_eq!(list(after(&n1, every.clone()), page(1, 2)), (vec![], 5));
    let mine = NotificationFilter {
        user_id: Some(USER.into()),
        ..NotificationFilter::default()
    };
    assert_eq!(list(after(&n5, mine), all()), (vec![n3, n1], 3));
}

fn requeue_moves_only_a_failed_notification_back_with_a_fresh_budget<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let f = enqueue(&**s, "f", USER, ScenarioType::Inactivity, t0(), None);
    let d = enqueue(&**s, "d", USER, ScenarioType::Milestone, t0(), None);
    let p = enqueue(
        &**s,
        "p",
        USER,
        ScenarioType::CertificationExpiry,
        t0() + TimeDelta::hours(1),
        None,
    );
    let batch = s.claim_due(&request(t0(), 10)).unwrap();
    assert_eq!(claimed_ids(&batch), [d.as_str(), f.as_str()]);
    let error = "HTTP 400".to_owned();
    s.record_outcomes(
        &[
            settled(&batch[0], Outcome::Delivered),
            settled(&batch[1], Outcome::Failed { error }),
        ],
        t0(),
    )
    .unwrap();

    let now = t0() + TimeDelta::hours(2);
    let Some(Requeue::Requeued(n)) = s.requeue_failed(&f, now).unwrap() else {
        panic!("a failed notification is requeued")
    };
    assert_eq!(n.status, NotificationStatus::Pending);
    assert_eq!(n.attempts, 0);
    assert_eq!(n.next_attempt_at, Some(now));
    assert_eq!(n.updated_at, now);
    assert_eq!(
        n.last_error.as_deref(),
        Some("HTTP 400"),
        "kept until the next attempt"
    );
    assert_eq!(n, get(&**s, &f));

    // Every other status is refused and left alone.
    for id in [&f, &d, &p] {
        let before = get(&**s, id);
        assert_eq!(
            s.requeue_failed(id, now + TimeDelta::hours(1)).unwrap(),
            Some(Requeue::NotFailed(before.clone())),
            "{id}"
        );
        assert_eq!(get(&**s, id), before);
    }
    assert_eq!(s.requeue_failed("ntf_nope", now).unwrap(), None);

    // Due now, it is claimed again as attempt 1.
    let batch = s.claim_due(&request(now, 10)).unwrap();
    assert_eq!(claimed_ids(&batch), [p.as_str(), f.as_str()]);
    assert_eq!(batch[1].claim.attempt, 1);
}

fn racing_claims_never_hand_out_one_notification_twice<S: Store>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let ids: Vec<String> = (0..24)
        .map(|i| {
            enqueue(
                &**s,
                &format!("{i:02}"),
                USER,
                ScenarioType::Inactivity,
                t0(),
                None,
            )
        })
        .collect();
    let workers = 4;
    let barrier = Barrier::new(workers);
    let claims: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let mut mine = Vec::new();
                    loop {
                        let batch = s.claim_due(&request(t0(), 3)).unwrap();
                        if batch.is_empty() {
                            return mine;
                        }
                        mine.extend(batch.into_iter().map(|d| d.claim.id));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for id in claims.iter().flatten() {
        *seen.entry(id.clone()).or_default() += 1;
    }
    assert!(seen.values().all(|&n| n == 1), "claimed twice: {seen:?}");
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ids,
        "every one claimed once"
    );
    for id in &ids {
        assert_eq!(get(&**s, id).attempts, 1, "{id}");
    }
}

fn the_cooldown_counts_pending_and_delivered_notifications_not_failed_ones<S: Store>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    let outbox = OutboxService::new(
        s.clone(),
        services.clock.clone(),
        RetryPolicy::default(),
        TimeDelta::seconds(60),
    );
    for user in [USER, OTHER] {
        let upsert = MentorUpsert {
            last_active_at: Some(utc(2026, 3, 1, 0, 0, 0)),
            ..common::in_org()
        };
        services.mentors.upsert(user, upsert).unwrap();
    }
    let inactivity = || Scenario::inactivity(None).unwrap();
    assert!(services.evaluate(USER, inactivity()).should_notify);
    assert!(services.evaluate(OTHER, inactivity()).should_notify);
    // A day later (a new once-only key), both are inside the 3-day cooldown.
    services.clock.advance(TimeDelta::days(1));
    assert_eq!(
        services.evaluate(USER, inactivity()).reason_code.as_str(),
        "cooldown_active"
    );

    // USER's is delivered, OTHER's fails: delivered still counts, failed does not.
    let batch = outbox.claim(10).unwrap();
    assert_eq!(batch.len(), 2);
    let outcomes: Vec<Settled> = batch
        .iter()
        .map(|d| {
            let result = if d.notification.user_id == USER {
                AttemptResult::Delivered
            } else {
                AttemptResult::Permanent("HTTP 410".into())
            };
            outbox.settle(d.claim.clone(), result, 0.5)
        })
        .collect();
    assert_eq!(outbox.record(&outcomes).unwrap(), 2);
    services.clock.advance(TimeDelta::hours(1));
    assert_eq!(
        services.evaluate(USER, inactivity()).reason_code.as_str(),
        "cooldown_active"
    );
    assert!(services.evaluate(OTHER, inactivity()).should_notify);
}
