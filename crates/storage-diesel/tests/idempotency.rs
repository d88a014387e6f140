//! The `IdempotencyStore` contract (run-log `idempotency.rs`) on the
//! in-memory store, SQLite and PostgreSQL: first answers kept for 24 hours,
//! mismatches, releases, and racing claims of one key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::{Arc, Barrier};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use run_log::{Claim, IdempotencyStore, StoredAnswer};

#[macro_use]
mod three_stores;

three_store_tests![
    run_log::InMemoryIdempotency::default() =>
    a_completed_key_gives_its_answer_back_to_the_same_request_only,
    a_key_being_answered_is_in_progress,
    a_released_key_is_free_again,
    a_key_is_free_again_after_its_window_and_pruned_after_it,
    keys_of_different_scopes_are_independent,
    a_key_never_answered_is_free_again_after_five_minutes,
    racing_claims_of_one_key_give_exactly_one_fresh,
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 26, 10, 15, 0).unwrap()
}

fn answer(body: &str) -> StoredAnswer {
    StoredAnswer {
        status: 202,
        body: body.into(),
    }
}

fn a_completed_key_gives_its_answer_back_to_the_same_request_only<S: IdempotencyStore>(s: &Arc<S>) {
    assert_eq!(
        s.claim_key("inv", "k1", "{\"a\":1}", t0()).unwrap(),
        Claim::Fresh
    );
    s.complete_key("inv", "k1", &answer("{\"id\":\"run_1\"}"))
        .unwrap();
    let later = t0() + TimeDelta::hours(23);
    assert_eq!(
        s.claim_key("inv", "k1", "{\"a\":1}", later).unwrap(),
        Claim::Replay(answer("{\"id\":\"run_1\"}"))
    );
    assert_eq!(
        s.claim_key("inv", "k1", "{\"a\":2}", later).unwrap(),
        Claim::Mismatch
    );
}

fn a_key_being_answered_is_in_progress<S: IdempotencyStore>(s: &Arc<S>) {
    assert_eq!(s.claim_key("inv", "k1", "r", t0()).unwrap(), Claim::Fresh);
    assert_eq!(
        s.claim_key("inv", "k1", "r", t0()).unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        s.claim_key("inv", "k1", "other", t0()).unwrap(),
        Claim::Mismatch
    );
}

fn a_released_key_is_free_again<S: IdempotencyStore>(s: &Arc<S>) {
    assert_eq!(s.claim_key("inv", "k1", "r", t0()).unwrap(), Claim::Fresh);
    s.release_key("inv", "k1").unwrap();
    assert_eq!(
        s.claim_key("inv", "k1", "other", t0()).unwrap(),
        Claim::Fresh
    );
}

fn a_key_is_free_again_after_its_window_and_pruned_after_it<S: IdempotencyStore>(s: &Arc<S>) {
    s.claim_key("inv", "old", "r", t0()).unwrap();
    s.complete_key("inv", "old", &answer("{}")).unwrap();
    s.claim_key("inv", "new", "r", t0() + TimeDelta::hours(20))
        .unwrap();
    let past = t0() + TimeDelta::hours(24) + TimeDelta::seconds(1);
    assert_eq!(
        s.claim_key("inv", "old", "other", past).unwrap(),
        Claim::Fresh
    );
    s.complete_key("inv", "old", &answer("{\"second\":true}"))
        .unwrap();
    assert_eq!(
        s.claim_key("inv", "old", "other", past).unwrap(),
        Claim::Replay(answer("{\"second\":true}"))
    );
    assert_eq!(s.prune_keys_before(t0() + TimeDelta::hours(21)).unwrap(), 1);
    assert_eq!(
        s.claim_key("inv", "new", "x", t0() + TimeDelta::hours(21))
            .unwrap(),
        Claim::Fresh,
        "pruned"
    );
}

fn keys_of_different_scopes_are_independent<S: IdempotencyStore>(s: &Arc<S>) {
    assert_eq!(s.claim_key("inv", "k1", "r", t0()).unwrap(), Claim::Fresh);
    assert_eq!(
        s.claim_key("batch", "k1", "other", t0()).unwrap(),
        Claim::Fresh
    );
}

fn racing_claims_of_one_key_give_exactly_one_fresh<S: IdempotencyStore + 'static>(s: &Arc<S>) {
    for round in 0..5 {
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    s.claim_key("inv", &format!("k{round}"), "r", t0()).unwrap()
                })
            })
            .collect();
        let claims: Vec<Claim> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            claims.iter().filter(|c| **c == Claim::Fresh).count(),
            1,
            "round {round}: {claims:?}"
        );
        assert!(
            claims
                .iter()
                .all(|c| matches!(c, Claim::Fresh | Claim::InProgress))
        );
    }
}

fn a_key_never_answered_is_free_again_after_five_minutes<S: IdempotencyStore>(s: &Arc<S>) {
    assert_eq!(s.claim_key("inv", "k1", "r", t0()).unwrap(), Claim::Fresh);
    // Its process died before answering.
    let soon = t0() + TimeDelta::minutes(4);
    assert_eq!(
        s.claim_key("inv", "k1", "r", soon).unwrap(),
        Claim::InProgress
    );
    let later = t0() + TimeDelta::minutes(5) + TimeDelta::seconds(1);
    assert_eq!(s.claim_key("inv", "k1", "r", later).unwrap(), Claim::Fresh);
    // An answered key keeps its answer for the whole 24 hours.
    s.complete_key("inv", "k1", &answer("{}")).unwrap();
    let much_later = later + TimeDelta::hours(23);
    assert_eq!(
        s.claim_key("inv", "k1", "r", much_later).unwrap(),
        Claim::Replay(answer("{}"))
    );
}
