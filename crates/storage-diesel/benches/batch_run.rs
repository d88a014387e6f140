//! A full scenario-evaluation run on SQLite (the target in
//! docs/benchmarks.md: 100,000 mentors, every decision recorded and
//! notifications enqueued, in at most 5 s on a 2-core machine, with peak
//! memory not much above that at 10,000).
//!
//! ```text
//! cargo bench -p storage-diesel --bench batch_run                 # 10,000 and 100,000 mentors, batches of 50
//! cargo bench -p storage-diesel --bench batch_run -- 100000 50,200,500
//! ```
//!
//! For each (mentor count, batch size) it creates a fresh SQLite file in
//! the temporary directory, inserts generated mentors with
//! `Store::bulk_insert_mentors` (not timed), then times the run: plan pages
//! of active ids (`active_user_ids_after`) and evaluate them in batches
//! through `BatchEvaluator::evaluate_batch`, each batch one transaction.
//! Peak RSS is reset before the run (`/proc/self/clear_refs`) and read
//! after it (`VmHWM`). No criterion: one run is seconds long and its
//! figure goes into `docs/benchmarks.md` by hand.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark: a failure is a failed measurement"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use run_log::{Run, RunRepository, RunStatus, Trigger};
use scenario_engine::adapters::{SystemClock, UlidIds, demo_mentors};
use scenario_engine::rules::{Rules, truncate_to_seconds};
use scenario_engine::service::{BatchEvaluator, BatchRequest, Clock};
use storage_diesel::Store;

/// The allocator of the `mentor-scheduler` binary, so that this bench
/// measures what a served run does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ids per planning page (`active_user_ids_after`).
const PLAN_PAGE: u32 = 1000;

/// The mentors of one measurement: the shared demo mix
/// (`scenario_engine::adapters::demo_mentor`, documented there), so every run
/// measures the same mentors; generated lazily and inserted in one
/// transaction of multi-row inserts.
fn populate(store: &Store, mentors: usize, now: DateTime<Utc>) {
    store
        .bulk_insert_mentors(demo_mentors(mentors as u64, now))
        .unwrap();
}

/// `VmHWM` or `VmRSS` of this process, in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Figures {
    batches: u64,
    users: i64,
    decisions: i64,
    notifications: i64,
    wall: Duration,
    cpu: Duration,
    /// Time in `prepare_batch` (the reader thread of a served run).
    prepare: Duration,
    /// Time in `commit_batch` (the committing thread of a served run).
    commit: Duration,
    peak_rss_mib: f64,
}

/// User plus system CPU time of this process so far (Linux `/proc/self/stat`,
/// in clock ticks of 1/100 s): what the run cost, whatever else the machine did.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn timed_run(store: &Store, batch_size: usize) -> Figures {
    let clock = Arc::new(SystemClock);
    let evaluator = BatchEvaluator::new(
        Arc::new(store.clone()),
        clock.clone(),
        Arc::new(UlidIds::new()),
        Rules::default(),
    );
    let run_id = "run_bench";
    let run = Run::start(
        run_id.into(),
        "scenario_evaluation",
        Trigger::Manual,
        truncate_to_seconds(clock.now()),
    );
    store.insert_run(&run, None).unwrap();
    // Peak RSS from here on (Linux: writing 5 resets VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");

    let started = Instant::now();
    let cpu_started = cpu_time();
    let mut after: Option<String> = None;
    let mut index = 0_i64;
    let mut figures = Figures {
        batches: 0,
        users: 0,
        decisions: 0,
        notifications: 0,
        wall: Duration::ZERO,
        cpu: Duration::ZERO,
        prepare: Duration::ZERO,
        commit: Duration::ZERO,
        peak_rss_mib: 0.0,
    };
    loop {
        let page = evaluator
            .active_user_ids_after(after.as_deref(), PLAN_PAGE)
            .unwrap();
        let Some(last) = page.last().cloned() else {
            break;
        };
        for chunk in page.chunks(batch_size) {
            let t = Instant::now();
            let prepared = evaluator
                .prepare_batch(BatchRequest::new(run_id, index, chunk.to_vec()))
                .unwrap();
            let t_commit = Instant::now();
            figures.prepare += t_commit - t;
            let report = evaluator.commit_batch(prepared).unwrap();
            figures.commit += t_commit.elapsed();
            index += 1;
            figures.batches += 1;
            figures.users += report.users_evaluated;
            // One evaluation row per (user, scenario type) of the results.
            figures.decisions += i64::try_from(
                report
                    .results
                    .iter()
                    .filter(|r| r.scenario_type.is_some())
                    .count(),
            )
            .unwrap();
            figures.notifications += report.notifications_sent;
        }
        after = Some(last);
    }
    figures.wall = started.elapsed();
    figures.cpu = cpu_time() - cpu_started;

    figures.peak_rss_mib = status_mib("VmHWM:");

    // The batches added to the stored totals: finish from the stored run,
    // since finish_run writes every field.
    let mut stored = store.get_run(run_id).unwrap().unwrap();
    assert_eq!(stored.users_evaluated, figures.users);
    assert_eq!(stored.notifications_dispatched, figures.notifications);
    stored
        .finish(RunStatus::Success, truncate_to_seconds(clock.now()), None)
        .unwrap();
    assert!(store.finish_run(&stored).unwrap());
    figures
}

fn parse_list(arg: Option<&String>, default: &[usize]) -> Vec<usize> {
    arg.map_or_else(
        || default.to_vec(),
        |a| a.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
    )
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let sizes = parse_list(args.first(), &[10_000, 100_000]);
    let batch_sizes = parse_list(args.get(1), &[50]);

    println!(
        "{:>9} {:>6} {:>8} {:>9} {:>10} {:>14} {:>9} {:>9} {:>9} {:>9} {:>14} {:>14}",
        "mentors",
        "batch",
        "batches",
        "evaluated",
        "decisions",
        "notifications",
        "wall_s",
        "cpu_s",
        "prepare_s",
        "commit_s",
        "decisions/s",
        "peak_rss_MiB"
    );
    for &n in &sizes {
        for &b in &batch_sizes {
            let dir: PathBuf =
                std::env::temp_dir().join(format!("ms_batch_run_{}_{n}_{b}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let url = dir.join("bench.db").display().to_string();
            let store = Store::open(&url, 4).unwrap();
            let now = truncate_to_seconds(SystemClock.now());
            let t = Instant::now();
            populate(&store, n, now);
            eprintln!(
                "populated {n} mentors in {:.2} s",
                t.elapsed().as_secs_f64()
            );

            let f = timed_run(&store, b);
            println!(
                "{:>9} {:>6} {:>8} {:>9} {:>10} {:>14} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>14.0} {:>14.1}",
                n,
                b,
                f.batches,
                f.users,
                f.decisions,
                f.notifications,
                f.wall.as_secs_f64(),
                f.cpu.as_secs_f64(),
                f.prepare.as_secs_f64(),
                f.commit.as_secs_f64(),
                f.decisions as f64 / f.wall.as_secs_f64(),
                f.peak_rss_mib
            );
            drop(store);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
