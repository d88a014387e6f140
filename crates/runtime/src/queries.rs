//! The run log as it is read: runs of any job, scheduler invocations, one
//! run with its batch results, a weekly report's download, and the schedule
//! preview.

use cert_expiry::ExpiryReport;
use chrono::{DateTime, Utc};
use run_log::{BatchResult, BatchWindow, Run, RunFilter, RunStatus};
use scenario_engine::service::{PageRequest, Paged};
use scheduler_core::{Handler, Schedule, ScheduleError};
use serde_json::Value;

use crate::error::RuntimeError;
use crate::runtime::Runtime;

/// Whether `id` could name a stored run: ids are made here (`run_` plus a
/// ULID), so one with a control character or over 128 characters is simply
/// unknown, and never reaches the database (PostgreSQL cannot even compare
/// a control character).
pub(crate) fn possible_id(id: &str) -> bool {
    scenario_engine::service::validate_platform_id("id", id).is_ok()
}

/// The formats a weekly expiry report downloads in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The run's stored result, as is.
    Json,
    /// One row per certification.
    Csv,
}

impl ReportFormat {
    /// Every format, by wire name.
    pub const ALL: [(&'static str, Self); 2] = [("json", Self::Json), ("csv", Self::Csv)];
}

/// A downloaded report.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The JSON form.
    Json(Value),
    /// The CSV form.
    Csv(String),
}

/// A schedule preview: when an expression fires.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The expression as given.
    pub expression: String,
    /// The zone's IANA name.
    pub timezone: &'static str,
    /// A sentence.
    pub description: String,
    /// The next firing instants, strictly after `from`.
    pub next: Vec<DateTime<Utc>>,
}

/// The next `count` instants of `expression` in `timezone` strictly after
/// `from`, by the rules the scheduler fires by.
///
/// # Errors
/// [`ScheduleError`] for a bad expression or an unknown zone.
pub fn preview(
    expression: &str,
    timezone: &str,
    from: DateTime<Utc>,
    count: usize,
) -> Result<Preview, ScheduleError> {
    let schedule = Schedule::parse(expression, timezone)?;
    Ok(Preview {
        expression: schedule.spec.as_str().to_owned(),
        timezone: schedule.timezone_name(),
        description: schedule.spec.describe(),
        next: schedule.upcoming(from, count),
    })
}

impl Runtime {
    /// A page of runs of any job, newest first.
    ///
    /// # Errors
    /// [`RuntimeError::Runs`].
    pub fn list_runs(
        &self,
        filter: &RunFilter,
        page: PageRequest,
    ) -> Result<Paged<Run>, RuntimeError> {
        let (rows, total) = self.runs.list_runs(filter, page.offset(), page.limit)?;
        Ok(Paged { rows, total })
    }

    /// One run.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`].
    pub fn run(&self, id: &str) -> Result<Run, RuntimeError> {
        let run = if possible_id(id) {
            self.runs.get_run(id)?
        } else {
            None
        };
        run.ok_or_else(|| RuntimeError::RunNotFound(id.to_owned()))
    }

    /// One run with its batch results in `window` (all by default).
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`].
    pub fn run_with_batches(
        &self,
        id: &str,
        window: BatchWindow,
    ) -> Result<(Run, Vec<BatchResult>), RuntimeError> {
        let run = self.run(id)?;
        let batches = self.runs.batch_results_in(id, window)?;
        Ok((run, batches))
    }

    /// A page of scheduler invocations (scenario-evaluation runs, scheduled
    /// or ad hoc), newest first, optionally of one status.
    ///
    /// # Errors
    /// [`RuntimeError::Runs`].
    pub fn list_invocations(
        &self,
        status: Option<RunStatus>,
        page: PageRequest,
    ) -> Result<Paged<Run>, RuntimeError> {
        let filter = RunFilter {
            kind: Some(Handler::ScenarioEvaluation.as_str().to_owned()),
            status,
            ..RunFilter::default()
        };
        self.list_runs(&filter, page)
    }

    /// One scheduler invocation with its batch results in `window` (all by
    /// default); any other kind of
    /// run is not found here.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`].
    pub fn invocation(
        &self,
        id: &str,
        window: BatchWindow,
    ) -> Result<(Run, Vec<BatchResult>), RuntimeError> {
        let run = self.scenario_run(id)?;
        let batches = self.runs.batch_results_in(id, window)?;
        Ok((run, batches))
    }

    /// The report of a `weekly_expiry_report` run that succeeded.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::NoReport`] for a run
    /// of another kind or one that did not succeed.
    pub fn report(&self, id: &str, format: ReportFormat) -> Result<Report, RuntimeError> {
        let run = self.run(id)?;
        let no_report = |why| RuntimeError::NoReport {
            run_id: id.to_owned(),
            why,
        };
        if run.kind != Handler::WeeklyExpiryReport.as_str() {
            return Err(no_report("only weekly_expiry_report runs have a report"));
        }
        if run.status != RunStatus::Success {
            return Err(no_report("the run did not succeed"));
        }
        let Some(summary) = run.result_summary else {
            return Err(no_report("the run has no result"));
        };
        match format {
            ReportFormat::Json => Ok(Report::Json(summary)),
            ReportFormat::Csv => ExpiryReport::csv_from_json(&summary)
                .map(Report::Csv)
                .ok_or_else(|| RuntimeError::CorruptReport(id.to_owned())),
        }
    }
}
