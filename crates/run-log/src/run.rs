//! Run records and batch results (docs/runs.md, "The run record").

use chrono::{DateTime, TimeDelta, Utc};

use crate::status::{IllegalTransition, RunStatus, Transition};

/// How a run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The scheduler fired it at a scheduled instant.
    Schedule,
    /// Someone asked for it (trigger, execute, invocation POST).
    Manual,
}

impl Trigger {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Manual => "manual",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "schedule" => Some(Self::Schedule),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }
}

/// One execution of a handler, scheduled or ad hoc (`run_` id).
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// `run_` + ULID.
    pub id: String,
    /// The job, if the run belongs to one (no foreign key: a run outlives its job).
    pub job_id: Option<String>,
    /// A copy of the job's name at the time.
    pub job_name: Option<String>,
    /// The handler's canonical name.
    pub kind: String,
    /// How it started.
    pub trigger: Trigger,
    /// Who asked, for manual runs.
    pub triggered_by: Option<String>,
    /// Why, for manual runs.
    pub reason: Option<String>,
    /// The scheduled instant, for scheduled runs.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Compute and record, change nothing.
    pub dry_run: bool,
    /// Fed by an outside orchestrator rather than processed here.
    pub external: bool,
    /// Where it is.
    pub status: RunStatus,
    /// When it started.
    pub invoked_at: DateTime<Utc>,
    /// When it finished.
    pub completed_at: Option<DateTime<Utc>>,
    /// Milliseconds from start to finish.
    pub duration_ms: Option<i64>,
    /// Distinct existing mentors evaluated (scenario runs).
    pub users_evaluated: i64,
    /// Notifications enqueued (scenario runs).
    pub notifications_dispatched: i64,
    /// The handler's result (counts, report, `count`/`first`/`last` of missed instants).
    pub result_summary: Option<serde_json::Value>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Which process holds the run, while it runs.
    pub lease_owner: Option<String>,
    /// When that hold lapses unless renewed. For an external run: when it
    /// is given up unless a batch arrives ([`EXTERNAL_BATCH_WINDOW`]).
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Mentors per planned batch, for a batched run the service processes.
    pub batch_size: Option<i64>,
    /// How many batches the run's plan has, once the plan is complete
    /// (`None` before: a process taking the run over plans again).
    pub planned_batches: Option<i64>,
    /// The lease's epoch: 0 when the run starts, one more at every
    /// takeover. A process writes to its run only while the stored epoch
    /// is the one it holds (fencing: `RunRepository`).
    pub lease_epoch: i64,
}

/// How long an external run waits for its next batch before it is failed
/// with `abandoned: no batch received` (docs/runs.md, "External runs").
pub const EXTERNAL_BATCH_WINDOW: TimeDelta = TimeDelta::hours(1);

/// The lease owner recorded on external runs: no process of the service holds them.
pub const EXTERNAL_OWNER: &str = "external";

impl Run {
    /// A new `running` run started at `now`.
    pub fn start(id: String, kind: &str, trigger: Trigger, now: DateTime<Utc>) -> Self {
        Self {
            id,
            job_id: None,
            job_name: None,
            kind: kind.to_owned(),
            trigger,
            triggered_by: None,
            reason: None,
            scheduled_for: None,
            dry_run: false,
            external: false,
            status: RunStatus::Running,
            invoked_at: now,
            completed_at: None,
            duration_ms: None,
            users_evaluated: 0,
            notifications_dispatched: 0,
            result_summary: None,
            error_message: None,
            lease_owner: None,
            lease_expires_at: None,
            batch_size: None,
            planned_batches: None,
            lease_epoch: 0,
        }
    }

    /// Moves the run to `status` at `now` along the state machine: a
    /// finishing run gets `completed_at`, `duration_ms`, and loses its lease.
    /// Returns whether anything changed.
    ///
    /// # Errors
    /// [`IllegalTransition`]; the run is left as it was.
    ///
    /// ```
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use run_log::{Run, RunStatus, Trigger};
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 26, 8, 0, 0).unwrap();
    /// let mut run = Run::start("run_1".into(), "scenario_evaluation", Trigger::Manual, t0);
    /// run.finish(RunStatus::Success, t0 + TimeDelta::milliseconds(4210), None).unwrap();
    /// assert_eq!(run.duration_ms, Some(4210));
    /// assert!(run.finish(RunStatus::Failed, t0, None).is_err());
    /// ```
    pub fn finish(
        &mut self,
        status: RunStatus,
        now: DateTime<Utc>,
        error_message: Option<String>,
    ) -> Result<Transition, IllegalTransition> {
        let transition = self.status.transition(status)?;
        if transition == Transition::Changed {
            self.status = status;
            self.completed_at = Some(now);
            self.duration_ms = Some((now - self.invoked_at).num_milliseconds().max(0));
            self.lease_owner = None;
            self.lease_expires_at = None;
            if error_message.is_some() {
                self.error_message = error_message;
            }
        }
        Ok(transition)
    }

    /// Whether a running run's lease lapsed at `now` (its process died).
    pub fn lease_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == RunStatus::Running && self.lease_expires_at.is_some_and(|t| t <= now)
    }

    /// Why a running run whose lease lapsed is given up, when it is not
    /// taken over: an external run received no batch in time; any other
    /// run's process died.
    pub fn abandoned_message(&self) -> &'static str {
        if self.external {
            "abandoned: no batch received"
        } else {
            "abandoned: lease expired"
        }
    }
}

/// Which of a run's batch results to read: those with a `batch_index`
/// past `after` (all when `None`), at most `limit` of them (all when
/// `None`). The default is every result, as a run's detail shows them.
///
/// ```
/// use run_log::BatchWindow;
/// let next = BatchWindow { after: Some(99), limit: Some(100) };
/// assert!(next.admits(100, 0) && !next.admits(99, 0) && !next.admits(150, 100));
/// assert!(BatchWindow::default().admits(0, 5_000));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchWindow {
    /// Only results with a larger `batch_index`.
    pub after: Option<i64>,
    /// At most this many.
    pub limit: Option<u32>,
}

impl BatchWindow {
    /// Whether the result at `batch_index` belongs in the window when
    /// `taken` results before it already do.
    pub fn admits(self, batch_index: i64, taken: usize) -> bool {
        self.after.is_none_or(|a| batch_index > a) && self.limit.is_none_or(|l| taken < l as usize)
    }
}

/// The outcome of one batch of a scenario-evaluation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchResult {
    /// From 0, in the run's batch plan order.
    pub batch_index: i64,
    /// Mentors the batch evaluated: distinct ids that name a mentor, as the
    /// run's `users_evaluated` counts them (the run's total is the sum of
    /// its batches').
    pub user_count: i64,
    /// Notifications enqueued (committed with the batch).
    pub notifications_sent: i64,
    /// Milliseconds the batch took.
    pub duration_ms: i64,
}

/// Default retention of runs, batch results, evaluations, delivered and
/// cancelled notifications and activity events, in days.
pub const DEFAULT_RETENTION_DAYS: i64 = 180;

/// The instant before which finished runs, batch results, evaluations,
/// delivered and cancelled notifications and activity events are pruned
/// (notifications not within the cooldown, which still reads them). Dedupe
/// keys are never pruned.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use run_log::retention_cutoff;
/// let now = Utc.with_ymd_and_hms(2026, 9, 1, 3, 0, 0).unwrap();
/// assert_eq!(retention_cutoff(now, 180), Utc.with_ymd_and_hms(2026, 3, 5, 3, 0, 0).unwrap());
/// ```
pub fn retention_cutoff(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    now - TimeDelta::days(days.max(0))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 26, 8, 0, 0).unwrap()
    }

    #[test]
    fn finishing_a_run_records_completion_duration_and_drops_the_lease() {
        let mut run = Run::start(
            "run_1".into(),
            "certification_expiry_check",
            Trigger::Schedule,
            t0(),
        );
        run.lease_owner = Some("host-a".into());
        run.lease_expires_at = Some(t0() + TimeDelta::seconds(30));
        let end = t0() + TimeDelta::seconds(72);
        assert_eq!(
            run.finish(RunStatus::Failed, end, Some("boom".into())),
            Ok(Transition::Changed)
        );
        assert_eq!(run.completed_at, Some(end));
        assert_eq!(run.duration_ms, Some(72_000));
        assert_eq!(run.error_message.as_deref(), Some("boom"));
        assert!(run.lease_owner.is_none() && run.lease_expires_at.is_none());
    }

    #[test]
    fn repeating_a_finished_status_changes_nothing() {
        let mut run = Run::start("run_1".into(), "scenario_evaluation", Trigger::Manual, t0());
        run.finish(RunStatus::Success, t0() + TimeDelta::seconds(1), None)
            .unwrap();
        let before = run.clone();
        assert_eq!(
            run.finish(RunStatus::Success, t0() + TimeDelta::days(1), None),
            Ok(Transition::Unchanged)
        );
        assert_eq!(run, before);
    }

    #[test]
    fn an_illegal_transition_leaves_the_run_untouched() {
        let mut run = Run::start("run_1".into(), "scenario_evaluation", Trigger::Manual, t0());
        run.finish(RunStatus::Cancelled, t0(), None).unwrap();
        let before = run.clone();
        assert!(run.finish(RunStatus::Success, t0(), None).is_err());
        assert_eq!(run, before);
    }

    #[test]
    fn a_lease_expires_only_for_running_runs_past_their_deadline() {
        let mut run = Run::start("run_1".into(), "scenario_evaluation", Trigger::Manual, t0());
        assert!(
            !run.lease_expired(t0() + TimeDelta::days(1)),
            "no lease, nothing to expire"
        );
        run.lease_expires_at = Some(t0() + TimeDelta::seconds(30));
        assert!(!run.lease_expired(t0() + TimeDelta::seconds(29)));
        assert!(run.lease_expired(t0() + TimeDelta::seconds(30)));
        run.finish(RunStatus::Success, t0(), None).unwrap();
        assert!(!run.lease_expired(t0() + TimeDelta::days(1)));
    }

    #[test]
    fn trigger_names_round_trip() {
        for t in [Trigger::Schedule, Trigger::Manual] {
            assert_eq!(Trigger::parse(t.as_str()), Some(t));
        }
        assert_eq!(Trigger::parse("cron"), None);
    }
}
