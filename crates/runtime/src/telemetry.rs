//! The runtime's figures, recorded through the `metrics` facade: whoever
//! runs the runtime installs a recorder (the service renders them at
//! `/metrics`; docs/operations.md lists them). Every name is here, once.

use chrono::TimeDelta;
use run_log::{Run, RunStatus};

/// Runs by job, kind and status: counted when a run ends, and for every
/// `skipped` or `missed` run recorded.
pub(crate) fn run_ended(run: &Run) {
    let job = run.job_name.clone().unwrap_or_else(|| "(none)".to_owned());
    metrics::counter!(
        "mentor_scheduler_runs_total",
        "job" => job,
        "kind" => run.kind.clone(),
        "status" => run.status.as_str(),
    )
    .increment(1);
    let worked = matches!(
        run.status,
        RunStatus::Success | RunStatus::Failed | RunStatus::Cancelled
    );
    if let Some(ms) = run.duration_ms.filter(|_| worked) {
        metrics::histogram!("mentor_scheduler_run_duration_seconds", "kind" => run.kind.clone())
            .record(ms as f64 / 1000.0);
    }
}

/// Batches of scenario-evaluation runs written, each with its results.
pub(crate) fn batches_committed(n: usize) {
    metrics::counter!("mentor_scheduler_batches_committed_total").increment(n as u64);
}

/// How late a scheduled firing was claimed: from its instant to the insert
/// of its run.
pub(crate) fn firing_claimed(late: TimeDelta) {
    let seconds = late.num_milliseconds().max(0) as f64 / 1000.0;
    metrics::histogram!("mentor_scheduler_scheduler_lateness_seconds").record(seconds);
}

/// One delivery attempt's outcome: `delivered`, `retry` or `failed`.
pub(crate) fn delivery_attempted(outcome: &'static str) {
    metrics::counter!("mentor_scheduler_delivery_attempts_total", "outcome" => outcome)
        .increment(1);
}

/// Rows the retention pass pruned, by what they were.
pub(crate) fn pruned(what: &'static str, rows: u64) {
    metrics::counter!("mentor_scheduler_retention_pruned_total", "what" => what).increment(rows);
}
