//! The job registry and the run log as the HTTP views read and change them
//! (SPEC sections 5 and 15, "Jobs and runs").
//!
//! Three contracts are three views of one registry: the scheduler view finds
//! a job by name, the cron view by id, and the certification-cron view by id
//! among the `certification_expiry_check` jobs only. Everything a view needs
//! beyond one [`JobService`](scheduler_core::JobService) call (the last
//! finished run, who holds the lock, the upcoming instants, which runs carry
//! a report) is composed here, from the rules of the pure crates, so that the
//! handlers only parse, call one function, and map the answer. Every
//! function blocks: handlers call them inside `web::block`.

use std::sync::Arc;

use cert_expiry::ExpiryReport;
use chrono::{DateTime, Utc};
use run_log::{BatchResult, Run, RunFilter, RunStatus};
use scenario_engine::service::{PageRequest, Paged};
use scheduler_core::{Handler, Job, JobError, JobPatch, NewJob, Schedule, ScheduleError};
use serde_json::Value;

use crate::runtime::{self, JobRuntime, RuntimeError, TriggerRequest};

/// How many instants a job's detail shows in `upcoming`.
pub const UPCOMING: usize = 5;

/// Why a view operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// A job or run operation failed (unknown job, validation, lock held, ...).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The job has no finished run yet (`last-result`).
    #[error("job `{0}` has not finished a run yet")]
    NeverRan(String),
    /// The run has no downloadable report.
    #[error("run `{run_id}` has no report: {why}")]
    NoReport {
        /// The run.
        run_id: String,
        /// Why not: another kind, or not a success.
        why: &'static str,
    },
    /// A stored report that cannot be read back (a bug, not bad input).
    #[error("the report of run `{0}` could not be read back")]
    CorruptReport(String),
}

impl From<JobError> for ViewError {
    fn from(e: JobError) -> Self {
        Self::Runtime(RuntimeError::Job(e))
    }
}

impl From<run_log::StoreError> for ViewError {
    fn from(e: run_log::StoreError) -> Self {
        Self::Runtime(RuntimeError::Runs(e))
    }
}

/// How a view names a job in its paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKey {
    /// `/api/v1/scheduler/jobs/{job_name}`: the exact name.
    Name(String),
    /// `/api/v1/cron/jobs/{id}`: any job by id.
    Id(String),
    /// `/api/v1/certification-cron/{id}`: a `certification_expiry_check`
    /// job by id; any other job is not found here.
    CertificationId(String),
}

impl JobKey {
    /// The job this key names in its view.
    ///
    /// # Errors
    /// [`JobError::NotFound`], also for a job of another handler in the
    /// certification view, and for a key no job can have (a control
    /// character, which PostgreSQL cannot even compare, or too long).
    pub fn resolve(&self, rt: &JobRuntime) -> Result<Job, JobError> {
        // Keys no job can have are refused by JobService itself.
        match self {
            Self::Name(name) => rt.jobs.get_by_name(name),
            Self::Id(id) => rt.jobs.get(id),
            Self::CertificationId(id) => match rt.jobs.get(id)? {
                job if job.handler == Handler::CertificationExpiryCheck => Ok(job),
                _ => Err(JobError::NotFound(id.clone())),
            },
        }
    }
}

/// Whether `id` could name a stored run: ids are made here
/// (`job_`/`run_` plus a ULID), so one with a control character or over
/// 128 characters is simply unknown, and never reaches the database.
fn possible_id(id: &str) -> bool {
    scenario_engine::service::validate_platform_id("id", id).is_ok()
}

/// A job with what its detail shows beside it.
#[derive(Debug, Clone)]
pub struct JobDetail {
    /// The job.
    pub job: Job,
    /// The newest finished real run (not skipped, missed or still running).
    pub last_run: Option<Run>,
    /// Whether a running run holds the job's lock (for scenario-evaluation
    /// jobs, the lock they all share).
    pub lock_acquired: bool,
    /// The next [`UPCOMING`] instants; empty when disabled.
    pub upcoming: Vec<DateTime<Utc>>,
}

/// A page of jobs, optionally of one handler, in registration order.
///
/// # Errors
/// [`JobError::Store`].
pub fn list(
    rt: &JobRuntime,
    handler: Option<Handler>,
    page: PageRequest,
) -> Result<Paged<Job>, ViewError> {
    let (rows, total) = rt.jobs.list(page.page, page.limit, handler)?;
    Ok(Paged { rows, total })
}

/// The newest finished real run of a job: `success`, `failed` or
/// `cancelled`, the runs that set `last_run_at` and `last_run_status`.
///
/// # Errors
/// [`run_log::StoreError`].
pub fn last_finished_run(rt: &JobRuntime, job_id: &str) -> Result<Option<Run>, ViewError> {
    let mut newest: Option<Run> = None;
    for status in [RunStatus::Success, RunStatus::Failed, RunStatus::Cancelled] {
        let filter = RunFilter {
            job_id: Some(job_id.to_owned()),
            status: Some(status),
            ..RunFilter::default()
        };
        let (runs, _) = rt.runs.list_runs(&filter, 0, 1)?;
        if let Some(run) = runs.into_iter().next()
            && newest
                .as_ref()
                .is_none_or(|n| (run.invoked_at, &run.id) > (n.invoked_at, &n.id))
        {
            newest = Some(run);
        }
    }
    Ok(newest)
}

/// One job with its last finished run, lock state and upcoming instants.
/// The job's `last_run_at` and `last_run_status` are those of that run
/// when the run log has it, so that a detail agrees with its own
/// `last_run_result` / `last_run_duration_ms` even in the moment between a
/// run finishing and the runtime recording it on the job.
///
/// # Errors
/// [`JobError::NotFound`].
pub fn detail(rt: &JobRuntime, key: &JobKey) -> Result<JobDetail, ViewError> {
    let mut job = key.resolve(rt)?;
    let last_run = last_finished_run(rt, &job.id)?;
    if let Some(run) = &last_run {
        job.last_run_at = Some(run.invoked_at);
        job.last_run_status = Some(run.status.as_str().to_owned());
    }
    let lock_acquired = rt
        .runs
        .running_with_lock(&runtime::lock_key(&job))?
        .is_some();
    let upcoming = job.upcoming(rt.now(), UPCOMING);
    Ok(JobDetail {
        job,
        last_run,
        lock_acquired,
        upcoming,
    })
}

/// Registers a job and wakes the scheduler loop.
///
/// # Errors
/// The validation errors of [`JobService::create`](scheduler_core::JobService::create).
pub fn create(rt: &JobRuntime, spec: NewJob) -> Result<Job, ViewError> {
    let job = rt.jobs.create(spec, rt.next_id("job"), rt.now())?;
    rt.jobs_changed();
    Ok(job)
}

/// Changes the job `key` names and wakes the scheduler loop.
///
/// # Errors
/// [`JobError::NotFound`], [`JobError::HandlerImmutable`] and the
/// validation errors of creation.
pub fn update(rt: &JobRuntime, key: &JobKey, patch: JobPatch) -> Result<Job, ViewError> {
    let job = key.resolve(rt)?;
    let job = rt.jobs.update(&job.id, patch, rt.now())?;
    rt.jobs_changed();
    Ok(job)
}

/// Deletes the job `key` names, cancelling its running run; returns the job
/// and when it was deleted.
///
/// # Errors
/// [`JobError::NotFound`].
pub fn delete(rt: &JobRuntime, key: &JobKey) -> Result<(Job, DateTime<Utc>), ViewError> {
    let job = key.resolve(rt)?;
    Ok(rt.delete_job(&job.id)?)
}

/// Starts a manual run of the job `key` names (disabled jobs included).
///
/// # Errors
/// [`JobError::NotFound`]; [`RuntimeError::LockHeld`] while a run holds
/// the job's lock.
pub fn trigger(
    rt: &Arc<JobRuntime>,
    key: &JobKey,
    request: TriggerRequest,
) -> Result<(Job, Run), ViewError> {
    let job = key.resolve(rt)?;
    let run = rt.trigger(&job, request)?;
    Ok((job, run))
}

/// A page of one job's runs, newest first (skipped and missed ones included).
///
/// # Errors
/// [`JobError::NotFound`].
pub fn job_runs(
    rt: &JobRuntime,
    key: &JobKey,
    page: PageRequest,
) -> Result<(Job, Paged<Run>), ViewError> {
    let job = key.resolve(rt)?;
    let filter = RunFilter {
        job_id: Some(job.id.clone()),
        ..RunFilter::default()
    };
    let (rows, total) = rt.runs.list_runs(&filter, page.offset(), page.limit)?;
    Ok((job, Paged { rows, total }))
}

/// The job's newest finished real run (see [`last_finished_run`]).
///
/// # Errors
/// [`JobError::NotFound`]; [`ViewError::NeverRan`] when it has none.
pub fn last_result(rt: &JobRuntime, key: &JobKey) -> Result<(Job, Run), ViewError> {
    let job = key.resolve(rt)?;
    match last_finished_run(rt, &job.id)? {
        Some(run) => Ok((job, run)),
        None => Err(ViewError::NeverRan(job.name.into_string())),
    }
}

/// A page of runs of any job, newest first.
///
/// # Errors
/// [`run_log::StoreError`].
pub fn runs(
    rt: &JobRuntime,
    filter: &RunFilter,
    page: PageRequest,
) -> Result<Paged<Run>, ViewError> {
    let (rows, total) = rt.runs.list_runs(filter, page.offset(), page.limit)?;
    Ok(Paged { rows, total })
}

/// One run with its batch results.
///
/// # Errors
/// [`RuntimeError::RunNotFound`].
pub fn run(rt: &JobRuntime, id: &str) -> Result<(Run, Vec<BatchResult>), ViewError> {
    let run = get_run(rt, id)?;
    let batches = rt.runs.batch_results(id)?;
    Ok((run, batches))
}

/// A page of scheduler invocations (scenario-evaluation runs, scheduled or
/// ad hoc), newest first, optionally of one status.
///
/// # Errors
/// [`RuntimeError::Runs`].
pub fn invocations(
    rt: &JobRuntime,
    status: Option<RunStatus>,
    page: PageRequest,
) -> Result<Paged<Run>, ViewError> {
    let filter = RunFilter {
        kind: Some(Handler::ScenarioEvaluation.as_str().to_owned()),
        status,
        ..RunFilter::default()
    };
    runs(rt, &filter, page)
}

/// One scheduler invocation with its batch results; any other kind of run
/// is not found here.
///
/// # Errors
/// [`RuntimeError::RunNotFound`].
pub fn invocation(rt: &JobRuntime, id: &str) -> Result<(Run, Vec<BatchResult>), ViewError> {
    let run = rt.scenario_run(id)?;
    let batches = rt.runs.batch_results(id)?;
    Ok((run, batches))
}

fn get_run(rt: &JobRuntime, id: &str) -> Result<Run, ViewError> {
    let run = if possible_id(id) {
        rt.runs.get_run(id)?
    } else {
        None
    };
    run.ok_or_else(|| RuntimeError::RunNotFound(id.to_owned()).into())
}

/// Cancels a running run; repeating it on a cancelled run changes nothing.
///
/// # Errors
/// [`RuntimeError::RunNotFound`]; [`RuntimeError::IllegalTransition`] for
/// a run that finished otherwise.
pub fn cancel_run(rt: &JobRuntime, id: &str) -> Result<Run, ViewError> {
    if !possible_id(id) {
        return Err(RuntimeError::RunNotFound(id.to_owned()).into());
    }
    Ok(rt.cancel_run(id)?)
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

/// The report of a `weekly_expiry_report` run that succeeded.
///
/// # Errors
/// [`RuntimeError::RunNotFound`]; [`ViewError::NoReport`] for a run of
/// another kind or one that did not succeed.
pub fn report(rt: &JobRuntime, id: &str, format: ReportFormat) -> Result<Report, ViewError> {
    let run = get_run(rt, id)?;
    let no_report = |why| ViewError::NoReport {
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
            .ok_or_else(|| ViewError::CorruptReport(id.to_owned())),
    }
}

/// A schedule preview (`GET /api/v1/schedules/preview`).
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
/// `from`, by the scheduler's own rules.
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
