//! Claims on a run's planned batches (run-log `repo.rs`,
//! `claim_batches`): each batch goes to one claimer at a time, finished
//! batches are never claimed, a lapsed or released claim is claimed again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use run_log::{BatchResult, PlannedBatch, Run, RunRepository, Trigger};

#[macro_use]
mod three_stores;

three_store_tests![
    run_log::InMemoryRuns::default() =>
    racing_claimers_take_each_batch_once,
    finished_batches_are_never_claimed_and_lapsed_claims_are_claimed_again,
];

/// Records a batch result, as a committed batch would.
trait Finish {
    fn finish_batch(&self, run_id: &str, batch_index: i64);
}

impl Finish for run_log::InMemoryRuns {
    fn finish_batch(&self, run_id: &str, batch_index: i64) {
        self.add_batch(
            run_id,
            BatchResult {
                batch_index,
                user_count: 1,
                notifications_sent: 0,
                duration_ms: 1,
            },
        );
    }
}

impl Finish for storage_diesel::Store {
    fn finish_batch(&self, run_id: &str, batch_index: i64) {
        use scenario_engine::service::{BatchRepository, BatchWrite};
        self.record_batch(&BatchWrite {
            run_id: run_id.into(),
            batch_index,
            users_evaluated: 1,
            duration_ms: 1,
            entries: Vec::new(),
            lease: None,
        })
        .unwrap();
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap()
}

/// `run_1` with a plan of `n` batches.
fn planned_run<S: RunRepository>(s: &S, n: i64) {
    let run = Run::start("run_1".into(), "scenario_evaluation", Trigger::Manual, t0());
    s.insert_run(&run, None).unwrap();
    let plan: Vec<PlannedBatch> = (0..n)
        .map(|i| PlannedBatch {
            batch_index: i,
            first_user_id: format!("usr_{:03}", 2 * i),
            last_user_id: format!("usr_{:03}", 2 * i + 1),
            user_count: 2,
        })
        .collect();
    s.insert_plan("run_1", None, &plan).unwrap();
    s.complete_plan("run_1", None, n).unwrap();
}

fn indices(batches: &[PlannedBatch]) -> Vec<i64> {
    batches.iter().map(|b| b.batch_index).collect()
}

fn racing_claimers_take_each_batch_once<S: RunRepository + 'static>(s: &Arc<S>) {
    planned_run(&**s, 40);
    let until = t0() + TimeDelta::seconds(30);
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    let claimed = s
                        .claim_batches("run_1", &format!("ins_{i}"), t0(), until, 0, 3)
                        .unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    mine.extend(indices(&claimed));
                }
            })
        })
        .collect();
    let mut all: Vec<i64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..40).collect::<Vec<_>>(), "each batch exactly once");
}

fn finished_batches_are_never_claimed_and_lapsed_claims_are_claimed_again<
    S: RunRepository + Finish,
>(
    s: &Arc<S>,
) {
    planned_run(&**s, 5);
    let until = t0() + TimeDelta::seconds(30);
    let a = s
        .claim_batches("run_1", "ins_a", t0(), until, 0, 2)
        .unwrap();
    assert_eq!(indices(&a), [0, 1]);
    s.finish_batch("run_1", 0);
    s.finish_batch("run_1", 3);
    // A claim from index 4 on does not look at the batches before it.
    let from_4 = s
        .claim_batches("run_1", "ins_e", t0(), until, 4, 10)
        .unwrap();
    assert_eq!(indices(&from_4), [4]);
    s.release_batch_claims("run_1", "ins_e").unwrap();
    let b = s
        .claim_batches("run_1", "ins_b", t0(), until, 0, 10)
        .unwrap();
    assert_eq!(indices(&b), [2, 4], "neither claimed nor finished");
    assert!(
        s.claim_batches("run_1", "ins_c", t0(), until, 0, 10)
            .unwrap()
            .is_empty()
    );
    // ins_a died: its unfinished claim (batch 1) lapses with its lease.
    let later = until + TimeDelta::seconds(1);
    let c = s
        .claim_batches(
            "run_1",
            "ins_c",
            later,
            later + TimeDelta::seconds(30),
            0,
            10,
        )
        .unwrap();
    assert_eq!(indices(&c), [1, 2, 4]);
    // ins_c drains: its claims are released, and claimed at once again.
    s.release_batch_claims("run_1", "ins_c").unwrap();
    let d = s
        .claim_batches(
            "run_1",
            "ins_d",
            later,
            later + TimeDelta::seconds(30),
            0,
            10,
        )
        .unwrap();
    let got: BTreeSet<i64> = indices(&d).into_iter().collect();
    assert_eq!(got, BTreeSet::from([1, 2, 4]));
}
