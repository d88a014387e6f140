//! An NDJSON import of 100,000 mentors on SQLite, through the path that
//! `POST /api/v1/mentors/import` and `mentor-scheduler import` share
//! (`NdjsonLines` over a file, `MentorService::import`), and the demo-data
//! insert (`Store::bulk_insert_mentors`) beside it.
//!
//! ```text
//! cargo bench -p mentor-scheduler-api --bench import                     # 100,000 lines
//! cargo bench -p mentor-scheduler-api --bench import -- 100000 /tmp/m.ndjson   # and keep the file
//! ```
//!
//! The file is generated from `scenario_engine::adapters::demo_mentors` (the demo
//! mix: a third of the lines carry a certification, some two, 4% a
//! preference patch). Each step is timed on a fresh SQLite file in the
//! temporary directory (memory is measured on the binary, with
//! `/usr/bin/time`). The figures go into `docs/benchmarks.md` by hand.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark: a failure is a failed measurement"
)]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use mentor_scheduler_api::import::NdjsonLines;
use scenario_engine::adapters::{SystemClock, demo_mentors};
use scenario_engine::rules::{MentorStatus, format_instant, truncate_to_seconds};
use scenario_engine::service::{Clock, ImportOutcome, MentorRecord, MentorService};
use serde_json::{Value, json};
use storage_diesel::Store;

/// One import line for a demo mentor (paused ones come without a status:
/// an import cannot pause).
fn line(r: &MentorRecord) -> Value {
    let m = &r.mentor;
    let mut l = json!({
        "user_id": m.user_id,
        "org_id": m.org_id,
        "sessions_count": m.sessions_count,
        "created_at": format_instant(m.created_at),
    });
    if m.status == MentorStatus::Inactive {
        l["status"] = json!("inactive");
    }
    if let Some(t) = m.last_active_at {
        l["last_active_at"] = json!(format_instant(t));
    }
    if let Some(t) = m.first_session_at {
        l["first_session_at"] = json!(format_instant(t));
    }
    if !r.certifications.is_empty() {
        l["certifications"] = r
            .certifications
            .iter()
            .map(|c| {
                json!({
                    "certification_id": c.certification_id,
                    "name": c.name,
                    "expires_at": format_instant(c.expires_at),
                    "required": c.required,
                })
            })
            .collect();
    }
    if !r.preferences.inactivity {
        l["preferences"] = json!({"inactivity": false});
    }
    l
}

fn write_file(path: &Path, n: u64) -> u64 {
    let now = truncate_to_seconds(SystemClock.now());
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    for r in demo_mentors(n, now) {
        serde_json::to_writer(&mut out, &line(&r)).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn import(store: &Store, file: &Path) -> (u64, u64, f64) {
    let service = MentorService::new(Arc::new(store.clone()), Arc::new(SystemClock));
    let mut lines = NdjsonLines::new(std::fs::File::open(file).unwrap(), 1 << 20);
    let started = Instant::now();
    let outcome = service.import(&mut lines).unwrap();
    let wall = started.elapsed().as_secs_f64();
    let ImportOutcome::Imported(counts) = outcome else {
        panic!("the generated file has bad lines");
    };
    (counts.created, counts.updated, wall)
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: u64 = args.first().map_or(100_000, |a| a.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = args
        .get(1)
        .map_or_else(|| dir.path().join("mentors.ndjson"), PathBuf::from);
    let bytes = write_file(&file, n);
    println!(
        "{n} lines, {:.1} MiB: {}",
        bytes as f64 / f64::from(1 << 20),
        file.display()
    );

    let db = |name: &str| {
        let url = dir.path().join(name).display().to_string();
        Store::open(&url, 4).unwrap()
    };
    println!(
        "{:<40} {:>8} {:>8} {:>8} {:>12}",
        "step", "created", "updated", "wall_s", "lines/s"
    );
    let store = db("import.db");
    for step in [
        "import into an empty database",
        "the same file again (all updates)",
    ] {
        let (created, updated, wall) = import(&store, &file);
        println!(
            "{step:<40} {created:>8} {updated:>8} {wall:>8.2} {:>12.0}",
            n as f64 / wall
        );
    }

    let store = db("demo.db");
    let now = truncate_to_seconds(SystemClock.now());
    let started = Instant::now();
    let inserted = store.bulk_insert_mentors(demo_mentors(n, now)).unwrap();
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{:<40} {inserted:>8} {:>8} {wall:>8.2} {:>12.0}",
        "demo-data (bulk insert, same mentors)",
        0,
        n as f64 / wall
    );
}
