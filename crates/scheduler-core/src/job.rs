//! Jobs: a name, a schedule, a handler and when they run next
//! (docs/scheduling.md).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};

use crate::lease::DEFAULT_MISFIRE_DEADLINE;
use crate::schedule::Schedule;

/// The prefix of job ids: `job_` followed by a ULID, made by the caller.
pub const JOB_ID_PREFIX: &str = "job";

/// The longest job name, in characters.
pub const MAX_JOB_NAME_LEN: usize = 128;

/// Why a job name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("job name {problem}")]
pub struct InvalidJobName {
    /// What is wrong, for example `must not be empty`.
    pub problem: &'static str,
}

/// A job's name: 1-128 characters, spaces allowed, no control characters,
/// not only whitespace. Kept exactly as given.
///
/// ```
/// use scheduler_core::JobName;
/// assert_eq!(JobName::parse("Daily Reminder Check").unwrap().as_str(), "Daily Reminder Check");
/// assert!(JobName::parse("   ").is_err());
/// assert!(JobName::parse("tab\there").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobName(String);

impl JobName {
    /// Checks and wraps a name.
    ///
    /// # Errors
    /// [`InvalidJobName`] when the name is empty, longer than 128
    /// characters, contains a control character or is only whitespace.
    pub fn parse(name: &str) -> Result<Self, InvalidJobName> {
        let problem = if name.is_empty() {
            Some("must not be empty")
        } else if name.chars().count() > MAX_JOB_NAME_LEN {
            Some("must be at most 128 characters")
        } else if name.chars().any(char::is_control) {
            Some("must not contain control characters")
        } else if name.chars().all(char::is_whitespace) {
            Some("must not be only whitespace")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(InvalidJobName { problem }),
            None => Ok(Self(name.to_owned())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for JobName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A handler name that is neither canonical nor a known alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown handler {name:?}; known handlers: {}", known.join(", "))]
pub struct UnknownHandler {
    /// The name given.
    pub name: String,
    /// The canonical names, for the error's details.
    pub known: Vec<&'static str>,
}

/// What a job does when it fires (docs/scheduling.md, "Handlers and their
/// parameters").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Handler {
    /// Evaluates every active mentor for every scenario, in batches
    /// (alias `reminder_scheduler`).
    ScenarioEvaluation,
    /// The nightly certification expiry check (alias `executeExpiryCheck`).
    CertificationExpiryCheck,
    /// Lifts pauses whose reason has gone.
    PauseAutoLift,
    /// Certifications expiring soon, per organisation
    /// (alias `generateWeeklyExpiryReport`).
    WeeklyExpiryReport,
    /// Prunes old runs, batch results and evaluations.
    RunLogRetention,
}

impl Handler {
    /// Every handler.
    pub const ALL: [Self; 5] = [
        Self::ScenarioEvaluation,
        Self::CertificationExpiryCheck,
        Self::PauseAutoLift,
        Self::WeeklyExpiryReport,
        Self::RunLogRetention,
    ];

    /// Aliases accepted from the contracts, with the handler they name.
    const ALIASES: [(&'static str, Self); 3] = [
        ("reminder_scheduler", Self::ScenarioEvaluation),
        ("executeExpiryCheck", Self::CertificationExpiryCheck),
        ("generateWeeklyExpiryReport", Self::WeeklyExpiryReport),
    ];

    /// Reads a canonical name or an alias (exactly, case included).
    ///
    /// # Errors
    /// [`UnknownHandler`] listing the canonical names.
    ///
    /// ```
    /// use scheduler_core::Handler;
    /// assert_eq!(Handler::parse("executeExpiryCheck").unwrap(), Handler::CertificationExpiryCheck);
    /// assert_eq!(Handler::parse("reminder_scheduler").unwrap().as_str(), "scenario_evaluation");
    /// let err = Handler::parse("sendEmails").unwrap_err();
    /// assert_eq!(err.known.len(), 5);
    /// ```
    pub fn parse(name: &str) -> Result<Self, UnknownHandler> {
        Self::ALL
            .into_iter()
            .find(|h| h.as_str() == name)
            .or_else(|| {
                Self::ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == name)
                    .map(|(_, h)| *h)
            })
            .ok_or_else(|| UnknownHandler {
                name: name.to_owned(),
                known: Self::names(),
            })
    }

    /// The canonical name, for example `certification_expiry_check`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ScenarioEvaluation => "scenario_evaluation",
            Self::CertificationExpiryCheck => "certification_expiry_check",
            Self::PauseAutoLift => "pause_auto_lift",
            Self::WeeklyExpiryReport => "weekly_expiry_report",
            Self::RunLogRetention => "run_log_retention",
        }
    }

    /// The canonical names of all handlers.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|h| h.as_str()).collect()
    }

    /// Every name [`Handler::parse`] accepts: the canonical names, then the
    /// aliases.
    ///
    /// ```
    /// use scheduler_core::Handler;
    /// let names = Handler::accepted_names();
    /// assert!(names.contains(&"run_log_retention") && names.contains(&"executeExpiryCheck"));
    /// assert!(names.iter().all(|n| Handler::parse(n).is_ok()));
    /// ```
    pub fn accepted_names() -> Vec<&'static str> {
        Self::names()
            .into_iter()
            .chain(Self::ALIASES.iter().map(|(alias, _)| *alias))
            .collect()
    }
}

impl fmt::Display for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Handler {
    type Err = UnknownHandler;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A registered job. All three job views of the API show the same jobs.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scheduler_core::{Handler, Job, JobName, Schedule};
///
/// let now = Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).unwrap();
/// let mut job = Job::new(
///     "job_01JQ8Z0000000000000000000".to_owned(),
///     JobName::parse("weekly-expiry-summary-report").unwrap(),
///     Schedule::parse("0 8 * * 1", "UTC").unwrap(),
///     Handler::parse("generateWeeklyExpiryReport").unwrap(),
///     now,
/// );
/// assert_eq!(job.status(), "active");
/// assert_eq!(job.next_run_at, Some(Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap()));
///
/// job.set_enabled(false, now);
/// assert_eq!(job.status(), "disabled");
/// assert_eq!(job.next_run_at, None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// `job_` plus a ULID, made by the caller.
    pub id: String,
    /// Unique among jobs.
    pub name: JobName,
    /// When it fires.
    pub schedule: Schedule,
    /// What it does.
    pub handler: Handler,
    /// Whether it fires on schedule (manual triggers work either way).
    pub enabled: bool,
    /// Handler parameters, for example `evaluation_timezone`.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// The next scheduled instant; `None` when disabled.
    pub next_run_at: Option<DateTime<Utc>>,
    /// The start of the last real run (not skipped or missed ones).
    pub last_run_at: Option<DateTime<Utc>>,
    /// The status of the last real run, for example `success`.
    pub last_run_status: Option<String>,
    /// How late a scheduled instant may still fire after downtime.
    pub misfire_deadline: TimeDelta,
}

impl Job {
    /// A new enabled job with no parameters, the default misfire deadline and
    /// `next_run_at` computed from `now`.
    pub fn new(
        id: String,
        name: JobName,
        schedule: Schedule,
        handler: Handler,
        now: DateTime<Utc>,
    ) -> Self {
        let next_run_at = schedule.next_after(now);
        Self {
            id,
            name,
            schedule,
            handler,
            enabled: true,
            params: serde_json::Map::new(),
            created_at: now,
            updated_at: now,
            next_run_at,
            last_run_at: None,
            last_run_status: None,
            misfire_deadline: DEFAULT_MISFIRE_DEADLINE,
        }
    }

    /// `active` when enabled, `disabled` otherwise, in every job view.
    pub const fn status(&self) -> &'static str {
        if self.enabled { "active" } else { "disabled" }
    }

    /// Sets `next_run_at` to the first instant after `now`, or clears it
    /// when the job is disabled.
    pub fn recompute_next(&mut self, now: DateTime<Utc>) {
        self.next_run_at = if self.enabled {
            self.schedule.next_after(now)
        } else {
            None
        };
    }

    /// Enables or disables the job. Disabling clears `next_run_at`; enabling
    /// a disabled job recomputes it from `now`. Enabling an enabled job
    /// keeps `next_run_at`, so a due instant is not lost.
    pub fn set_enabled(&mut self, enabled: bool, now: DateTime<Utc>) {
        if self.enabled != enabled {
            self.enabled = enabled;
            self.recompute_next(now);
        }
        self.updated_at = now;
    }

    /// Replaces the schedule (expression and time zone) and recomputes
    /// `next_run_at` from `now`.
    pub fn set_schedule(&mut self, schedule: Schedule, now: DateTime<Utc>) {
        self.schedule = schedule;
        self.recompute_next(now);
        self.updated_at = now;
    }

    /// The next `count` instants after `now`, as the job views show them in
    /// `upcoming`; empty when disabled.
    pub fn upcoming(&self, now: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        if self.enabled {
            self.schedule.upcoming(now, count)
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn job(expr: &str, now: &str) -> Job {
        Job::new(
            "job_01JQ8Z0000000000000000000".to_owned(),
            JobName::parse("certification-expiry-nightly").unwrap(),
            Schedule::parse(expr, "UTC").unwrap(),
            Handler::CertificationExpiryCheck,
            at(now),
        )
    }

    #[test]
    fn job_names_of_1_to_128_printable_characters_are_accepted() {
        for name in [
            "a",
            "Daily Reminder Check",
            " padded ",
            "ünïcødé ✓",
            &"x".repeat(128),
        ] {
            assert_eq!(JobName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn bad_job_names_say_what_is_wrong() {
        let cases = [
            ("", "must not be empty"),
            (&"x".repeat(129), "must be at most 128 characters"),
            ("a\nb", "must not contain control characters"),
            ("\u{7f}", "must not contain control characters"),
            ("   ", "must not be only whitespace"),
            ("\u{3000}", "must not be only whitespace"),
        ];
        for (name, problem) in cases {
            assert_eq!(
                JobName::parse(name),
                Err(InvalidJobName { problem }),
                "{name:?}"
            );
        }
        assert_eq!(
            JobName::parse("").unwrap_err().to_string(),
            "job name must not be empty"
        );
    }

    #[test]
    fn canonical_names_and_aliases_map_to_handlers() {
        let cases = [
            ("scenario_evaluation", Handler::ScenarioEvaluation),
            ("reminder_scheduler", Handler::ScenarioEvaluation),
            (
                "certification_expiry_check",
                Handler::CertificationExpiryCheck,
            ),
            ("executeExpiryCheck", Handler::CertificationExpiryCheck),
            ("pause_auto_lift", Handler::PauseAutoLift),
            ("weekly_expiry_report", Handler::WeeklyExpiryReport),
            ("generateWeeklyExpiryReport", Handler::WeeklyExpiryReport),
            ("run_log_retention", Handler::RunLogRetention),
        ];
        for (name, handler) in cases {
            assert_eq!(Handler::parse(name), Ok(handler), "{name}");
        }
        for handler in Handler::ALL {
            assert_eq!(Handler::parse(handler.as_str()), Ok(handler));
        }
    }

    #[test]
    fn an_unknown_handler_lists_the_canonical_names() {
        let err = Handler::parse("ExecuteExpiryCheck").unwrap_err();
        assert_eq!(err.name, "ExecuteExpiryCheck");
        assert_eq!(
            err.known,
            [
                "scenario_evaluation",
                "certification_expiry_check",
                "pause_auto_lift",
                "weekly_expiry_report",
                "run_log_retention",
            ]
        );
        assert_eq!(
            err.to_string(),
            "unknown handler \"ExecuteExpiryCheck\"; known handlers: scenario_evaluation, \
             certification_expiry_check, pause_auto_lift, weekly_expiry_report, run_log_retention"
        );
    }

    #[test]
    fn a_new_job_is_active_with_next_run_computed_and_defaults() {
        let job = job("0 2 * * *", "2026-03-26T09:00:00Z");
        assert!(job.enabled);
        assert_eq!(job.status(), "active");
        assert_eq!(job.next_run_at, Some(at("2026-03-27T02:00:00Z")));
        assert_eq!(job.misfire_deadline, TimeDelta::hours(1));
        assert!(job.params.is_empty());
        assert_eq!(job.created_at, job.updated_at);
        assert_eq!(job.last_run_at, None);
    }

    #[test]
    fn disabling_clears_next_run_and_enabling_recomputes_it() {
        let mut job = job("0 2 * * *", "2026-03-26T09:00:00Z");
        job.set_enabled(false, at("2026-03-26T10:00:00Z"));
        assert_eq!(job.status(), "disabled");
        assert_eq!(job.next_run_at, None);
        assert_eq!(job.updated_at, at("2026-03-26T10:00:00Z"));
        assert!(job.upcoming(at("2026-03-26T10:00:00Z"), 5).is_empty());

        job.set_enabled(true, at("2026-03-28T03:00:00Z"));
        assert_eq!(job.next_run_at, Some(at("2026-03-29T02:00:00Z")));
    }

    #[test]
    fn enabling_an_enabled_job_keeps_a_due_next_run() {
        let mut job = job("0 2 * * *", "2026-03-26T09:00:00Z");
        job.set_enabled(true, at("2026-03-27T05:00:00Z"));
        assert_eq!(job.next_run_at, Some(at("2026-03-27T02:00:00Z")));
    }

    #[test]
    fn changing_the_schedule_recomputes_next_run() {
        let mut job = job("0 2 * * *", "2026-03-26T09:00:00Z");
        job.set_schedule(
            Schedule::parse("0 3 * * *", "Europe/Oslo").unwrap(),
            at("2026-03-26T10:00:00Z"),
        );
        assert_eq!(job.next_run_at, Some(at("2026-03-27T02:00:00Z")));
        assert_eq!(
            job.upcoming(at("2026-03-26T10:00:00Z"), 3),
            [
                at("2026-03-27T02:00:00Z"),
                at("2026-03-28T02:00:00Z"),
                at("2026-03-29T01:00:00Z"),
            ]
        );
    }
}
