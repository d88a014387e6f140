//! The retention job: prunes finished runs (with their batch results)
//! and evaluations older than the retention period, and idempotency keys
//! past their window. Dedupe keys and notifications stay.

use run_log::{IDEMPOTENCY_WINDOW, Run};
use serde_json::{Value, json};

use crate::execute::Stop;
use crate::runtime::Runtime;
use crate::telemetry;

impl Runtime {
    /// Prunes finished runs (with their batch results) and evaluations older
    /// than the retention period; dedupe keys and notifications stay. A dry
    /// run prunes nothing.
    pub(crate) fn retention(&self, days: i64, run: &Run) -> Result<Value, Stop> {
        let cutoff = run_log::retention_cutoff(run.invoked_at, days);
        let summary = |runs: u64, evaluations: u64, keys: u64| {
            json!({
                "retention_days": days,
                "cutoff": scenario_engine::rules::format_instant(cutoff),
                "runs_pruned": runs,
                "evaluations_pruned": evaluations,
                "idempotency_keys_pruned": keys,
                "dry_run": run.dry_run,
            })
        };
        if run.dry_run {
            return Ok(summary(0, 0, 0));
        }
        let runs = self
            .runs
            .prune_runs_before(cutoff)
            .map_err(|e| Stop::Failed(format!("pruning runs failed: {e}")))?;
        let evaluations = self
            .evaluation_log
            .prune_evaluations_before(cutoff)
            .map_err(|e| Stop::Failed(format!("pruning evaluations failed: {e}")))?;
        // Idempotency keys live for their window only, whatever the retention.
        let keys = self
            .idempotency
            .prune_keys_before(run.invoked_at - IDEMPOTENCY_WINDOW)
            .map_err(|e| Stop::Failed(format!("pruning idempotency keys failed: {e}")))?;
        telemetry::pruned("runs", runs);
        telemetry::pruned("evaluations", evaluations);
        telemetry::pruned("idempotency_keys", keys);
        Ok(summary(runs, evaluations, keys))
    }
}
