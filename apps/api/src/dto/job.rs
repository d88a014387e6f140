//! Job wire types for the three views of the one job registry (SPEC
//! sections 5 and 15): `nightly-scheduler.txt` (`/api/v1/scheduler/jobs`,
//! keyed by name), `certification-cron.txt` (`/api/v1/certification-cron`,
//! certification expiry checks only) and `cron-jobs.txt`
//! (`/api/v1/cron/jobs`). Each view answers its contract's field names, plus
//! the job's id, canonical `handler`, `timezone`, `status`, `params` and
//! timestamps.

use chrono::{DateTime, Utc};
use run_log::Run;
use scheduler_core::{Handler, Job, JobPatch, NewJob};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{instant, opt_instant};
use crate::error::ApiError;
use crate::job_views::JobDetail;
use crate::runtime::TriggerRequest;

/// The longest accepted trigger `reason`, in characters.
pub const MAX_REASON_LEN: usize = 1000;

/// `page` and `limit` only.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageOnlyQuery {
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 20).
    pub limit: Option<i64>,
}

/// Query of the scheduler and cron job lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobListQuery {
    /// Only jobs of this handler (canonical name or alias).
    pub handler: Option<String>,
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 20).
    pub limit: Option<i64>,
}

impl JobListQuery {
    /// The handler filter.
    ///
    /// # Errors
    /// 422 `unknown_handler` listing the canonical names.
    pub fn handler(&self) -> Result<Option<Handler>, ApiError> {
        Ok(self
            .handler
            .as_deref()
            .map(Handler::parse)
            .transpose()
            .map_err(scheduler_core::JobError::from)?)
    }
}

/// The body of every trigger and execute; it may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    /// Who asked (1-128 characters, no control characters).
    pub triggered_by: Option<String>,
    /// Compute and record the run, change nothing (default false).
    pub dry_run: Option<bool>,
    /// Why (at most 1000 characters; no control characters but line breaks and tabs).
    pub reason: Option<String>,
}

impl TryFrom<TriggerBody> for TriggerRequest {
    type Error = ApiError;

    fn try_from(b: TriggerBody) -> Result<Self, ApiError> {
        if let Some(by) = &b.triggered_by {
            scenario_engine::service::validate_platform_id("triggered_by", by)?;
        }
        if let Some(reason) = &b.reason {
            super::check_free_text("reason", reason, MAX_REASON_LEN)?;
        }
        Ok(Self {
            triggered_by: b.triggered_by,
            reason: b.reason,
            dry_run: b.dry_run.unwrap_or(false),
        })
    }
}

fn nothing_to_update() -> ApiError {
    ApiError::Invalid {
        field: None,
        message: "nothing to update: give at least one field".into(),
    }
}

fn patch(p: JobPatch) -> Result<JobPatch, ApiError> {
    if p == JobPatch::default() {
        Err(nothing_to_update())
    } else {
        Ok(p)
    }
}

fn upcoming(detail: &JobDetail) -> Vec<String> {
    detail.upcoming.iter().copied().map(instant).collect()
}

fn params(job: &Job) -> Value {
    Value::Object(job.params.clone())
}

/// How a run appears in a job view's run list and `last-result`, beyond
/// the view's own fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunFacts {
    /// `schedule` or `manual`.
    pub trigger: &'static str,
    /// Who triggered it by hand.
    pub triggered_by: Option<String>,
    /// Why, if given.
    pub reason: Option<String>,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// Its duration, once finished.
    pub duration_ms: Option<i64>,
    /// Why it failed.
    pub error_message: Option<String>,
}

impl From<&Run> for RunFacts {
    fn from(r: &Run) -> Self {
        Self {
            trigger: r.trigger.as_str(),
            triggered_by: r.triggered_by.clone(),
            reason: r.reason.clone(),
            dry_run: r.dry_run,
            duration_ms: r.duration_ms,
            error_message: r.error_message.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// nightly-scheduler.txt: /api/v1/scheduler/jobs, keyed by name.

/// A job in the scheduler view.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerJobDto {
    /// The job's unique name (the path key of this view).
    pub job_name: String,
    /// The cron expression as given.
    pub cron_expression: String,
    /// Whether it fires on schedule.
    pub is_active: bool,
    /// Start of the last finished real run.
    pub last_run_at: Option<String>,
    /// Status of the last finished real run.
    pub last_run_status: Option<String>,
    /// The next scheduled instant; null when disabled.
    pub next_run_at: Option<String>,
    /// `job_` + ULID: the key of the other views.
    pub id: String,
    /// IANA time zone of the expression.
    pub timezone: &'static str,
    /// Canonical handler name.
    pub handler: &'static str,
    /// `active` or `disabled`.
    pub status: &'static str,
    /// Handler parameters.
    #[schema(value_type = Object)]
    pub params: Value,
    /// When it was registered.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl From<&Job> for SchedulerJobDto {
    fn from(j: &Job) -> Self {
        Self {
            job_name: j.name.as_str().to_owned(),
            cron_expression: j.schedule.spec.as_str().to_owned(),
            is_active: j.enabled,
            last_run_at: opt_instant(j.last_run_at),
            last_run_status: j.last_run_status.clone(),
            next_run_at: opt_instant(j.next_run_at),
            id: j.id.clone(),
            timezone: j.schedule.timezone_name(),
            handler: j.handler.as_str(),
            status: j.status(),
            params: params(j),
            created_at: instant(j.created_at),
            updated_at: instant(j.updated_at),
        }
    }
}

/// One job in the scheduler view, with its lock and upcoming instants.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerJobDetailDto {
    /// The job.
    #[serde(flatten)]
    pub job: SchedulerJobDto,
    /// Whether a running run holds the job's lock.
    pub lock_acquired: bool,
    /// The next 5 instants; empty when disabled.
    pub upcoming: Vec<String>,
}

impl From<&JobDetail> for SchedulerJobDetailDto {
    fn from(d: &JobDetail) -> Self {
        Self {
            job: SchedulerJobDto::from(&d.job),
            lock_acquired: d.lock_acquired,
            upcoming: upcoming(d),
        }
    }
}

/// `POST /api/v1/scheduler/jobs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchedulerJobBody {
    /// Unique name, 1-128 printable characters (spaces allowed).
    pub job_name: String,
    /// 5 or 6 fields, or a nickname such as `@daily`.
    pub cron_expression: String,
    /// Canonical name or alias (`generateWeeklyExpiryReport`, ...).
    pub handler: String,
    /// Default true.
    pub is_active: Option<bool>,
    /// IANA zone, default `UTC`.
    pub timezone: Option<String>,
    /// Handler parameters.
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

impl From<CreateSchedulerJobBody> for NewJob {
    fn from(b: CreateSchedulerJobBody) -> Self {
        Self {
            name: b.job_name,
            cron_expression: b.cron_expression,
            timezone: b.timezone,
            handler: b.handler,
            enabled: b.is_active,
            params: b.params,
        }
    }
}

/// `PUT /api/v1/scheduler/jobs/{job_name}`: every field optional, at least one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSchedulerJobBody {
    /// New name.
    pub job_name: Option<String>,
    /// New expression.
    pub cron_expression: Option<String>,
    /// New zone.
    pub timezone: Option<String>,
    /// Replacement parameters.
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
    /// Enable or disable.
    pub is_active: Option<bool>,
    /// Must name the job's handler (it cannot change).
    pub handler: Option<String>,
}

impl TryFrom<UpdateSchedulerJobBody> for JobPatch {
    type Error = ApiError;

    fn try_from(b: UpdateSchedulerJobBody) -> Result<Self, ApiError> {
        patch(Self {
            name: b.job_name,
            cron_expression: b.cron_expression,
            timezone: b.timezone,
            enabled: b.is_active,
            params: b.params,
            handler: b.handler,
            misfire_deadline_seconds: None,
        })
    }
}

/// The 202 of `POST /api/v1/scheduler/jobs/{job_name}/trigger`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerTriggeredDto {
    /// The job.
    pub job_name: String,
    /// When the run started.
    pub triggered_at: String,
    /// The run (`GET /api/v1/runs/{id}`).
    pub run_id: String,
    /// `running`.
    pub status: &'static str,
    /// The job's id.
    pub job_id: String,
    /// Whether it is a dry run.
    pub dry_run: bool,
}

impl From<(&Job, &Run)> for SchedulerTriggeredDto {
    fn from((job, run): (&Job, &Run)) -> Self {
        Self {
            job_name: job.name.as_str().to_owned(),
            triggered_at: instant(run.invoked_at),
            run_id: run.id.clone(),
            status: run.status.as_str(),
            job_id: job.id.clone(),
            dry_run: run.dry_run,
        }
    }
}

/// A run in the scheduler view: `last-result` and `{job_name}/runs` items.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerRunDto {
    /// The job (its current name).
    pub job_name: String,
    /// The run.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// When it finished; null while running.
    pub completed_at: Option<String>,
    /// `running`, `success`, `failed`, `cancelled`, `skipped` or `missed`.
    pub status: &'static str,
    /// The handler's summary.
    #[schema(value_type = Option<Object>)]
    pub result_summary: Option<Value>,
    /// More about the run.
    #[serde(flatten)]
    pub facts: RunFacts,
}

impl From<(&Job, &Run)> for SchedulerRunDto {
    fn from((job, run): (&Job, &Run)) -> Self {
        Self {
            job_name: job.name.as_str().to_owned(),
            run_id: run.id.clone(),
            started_at: instant(run.invoked_at),
            completed_at: opt_instant(run.completed_at),
            status: run.status.as_str(),
            result_summary: run.result_summary.clone(),
            facts: run.into(),
        }
    }
}

/// The answer of `DELETE /api/v1/scheduler/jobs/{job_name}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerJobDeleted {
    /// Always true.
    pub deleted: bool,
    /// The deleted job.
    pub job_name: String,
    /// When it was deregistered (and its running run, if any, cancelled).
    pub cancelled_at: String,
    /// Its id.
    pub job_id: String,
}

impl From<(&Job, DateTime<Utc>)> for SchedulerJobDeleted {
    fn from((job, at): (&Job, DateTime<Utc>)) -> Self {
        Self {
            deleted: true,
            job_name: job.name.as_str().to_owned(),
            cancelled_at: instant(at),
            job_id: job.id.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// certification-cron.txt: /api/v1/certification-cron, expiry-check jobs by id.

/// A certification expiry check job.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationCronDto {
    /// `job_` + ULID.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The cron expression as given.
    pub cron_expression: String,
    /// `active` or `disabled`.
    pub status: &'static str,
    /// Start of the last finished real run.
    pub last_run_at: Option<String>,
    /// Status of the last finished real run.
    pub last_run_status: Option<String>,
    /// The next scheduled instant; null when disabled.
    pub next_run_at: Option<String>,
    /// When it was registered.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// The boolean of `status`.
    pub enabled: bool,
    /// IANA time zone of the expression.
    pub timezone: &'static str,
    /// Always `certification_expiry_check`.
    pub handler: &'static str,
    /// Handler parameters (`lead_time_days`).
    #[schema(value_type = Object)]
    pub params: Value,
}

impl From<&Job> for CertificationCronDto {
    fn from(j: &Job) -> Self {
        Self {
            id: j.id.clone(),
            name: j.name.as_str().to_owned(),
            cron_expression: j.schedule.spec.as_str().to_owned(),
            status: j.status(),
            last_run_at: opt_instant(j.last_run_at),
            last_run_status: j.last_run_status.clone(),
            next_run_at: opt_instant(j.next_run_at),
            created_at: instant(j.created_at),
            updated_at: instant(j.updated_at),
            enabled: j.enabled,
            timezone: j.schedule.timezone_name(),
            handler: j.handler.as_str(),
            params: params(j),
        }
    }
}

/// One certification expiry check job with its last result.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationCronDetailDto {
    /// The job.
    #[serde(flatten)]
    pub job: CertificationCronDto,
    /// The last finished real run's `result_summary`, or null.
    #[schema(value_type = Option<Object>)]
    pub last_run_result: Option<Value>,
    /// Whether a running run holds the job's lock.
    pub lock_acquired: bool,
    /// The next 5 instants; empty when disabled.
    pub upcoming: Vec<String>,
}

impl From<&JobDetail> for CertificationCronDetailDto {
    fn from(d: &JobDetail) -> Self {
        Self {
            job: CertificationCronDto::from(&d.job),
            last_run_result: d.last_run.as_ref().and_then(|r| r.result_summary.clone()),
            lock_acquired: d.lock_acquired,
            upcoming: upcoming(d),
        }
    }
}

/// `POST /api/v1/certification-cron`: the handler is always
/// `certification_expiry_check`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCertificationCronBody {
    /// Unique name.
    pub name: String,
    /// 5 or 6 fields, or a nickname.
    pub cron_expression: String,
    /// Default true.
    pub enabled: Option<bool>,
    /// IANA zone, default `UTC`.
    pub timezone: Option<String>,
    /// Handler parameters (`lead_time_days`, 0-3650, default 30).
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

impl From<CreateCertificationCronBody> for NewJob {
    fn from(b: CreateCertificationCronBody) -> Self {
        Self {
            name: b.name,
            cron_expression: b.cron_expression,
            timezone: b.timezone,
            handler: Handler::CertificationExpiryCheck.as_str().to_owned(),
            enabled: b.enabled,
            params: b.params,
        }
    }
}

/// `PUT /api/v1/certification-cron/{id}`: every field optional, at least one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCertificationCronBody {
    /// New expression.
    pub cron_expression: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New zone.
    pub timezone: Option<String>,
    /// Replacement parameters.
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
    /// New name.
    pub name: Option<String>,
    /// Must name the job's handler (it cannot change).
    pub handler: Option<String>,
}

impl TryFrom<UpdateCertificationCronBody> for JobPatch {
    type Error = ApiError;

    fn try_from(b: UpdateCertificationCronBody) -> Result<Self, ApiError> {
        patch(Self {
            name: b.name,
            cron_expression: b.cron_expression,
            timezone: b.timezone,
            enabled: b.enabled,
            params: b.params,
            handler: b.handler,
            misfire_deadline_seconds: None,
        })
    }
}

/// The 202 of `POST /api/v1/certification-cron/{id}/execute`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationExecutedDto {
    /// The run (`GET /api/v1/runs/{id}`).
    pub run_id: String,
    /// The job.
    pub cron_id: String,
    /// When the run started.
    pub triggered_at: String,
    /// `running`.
    pub status: &'static str,
    /// Whether it is a dry run.
    pub dry_run: bool,
}

impl From<(&Job, &Run)> for CertificationExecutedDto {
    fn from((job, run): (&Job, &Run)) -> Self {
        Self {
            run_id: run.id.clone(),
            cron_id: job.id.clone(),
            triggered_at: instant(run.invoked_at),
            status: run.status.as_str(),
            dry_run: run.dry_run,
        }
    }
}

/// A run of a certification expiry check job.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationRunDto {
    /// The run.
    pub run_id: String,
    /// The job.
    pub cron_id: String,
    /// When it started.
    pub started_at: String,
    /// When it finished; null while running.
    pub completed_at: Option<String>,
    /// `running`, `success`, `failed`, `cancelled`, `skipped` or `missed`.
    pub status: &'static str,
    /// The summary: `mentors_checked`, `expired_found`, `auto_paused`,
    /// `reminders_sent`, `errors` (skipped and missed runs: `count`, ...).
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// More about the run.
    #[serde(flatten)]
    pub facts: RunFacts,
}

impl From<(&Job, &Run)> for CertificationRunDto {
    fn from((job, run): (&Job, &Run)) -> Self {
        Self {
            run_id: run.id.clone(),
            cron_id: job.id.clone(),
            started_at: instant(run.invoked_at),
            completed_at: opt_instant(run.completed_at),
            status: run.status.as_str(),
            result: run.result_summary.clone(),
            facts: run.into(),
        }
    }
}

/// The answer of `DELETE /api/v1/certification-cron/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationCronDeleted {
    /// Always true.
    pub deleted: bool,
    /// The deleted job.
    pub id: String,
}

// ---------------------------------------------------------------------------
// cron-jobs.txt: /api/v1/cron/jobs, every job by id.

/// A job in the cron view.
#[derive(Debug, Serialize, ToSchema)]
pub struct CronJobDto {
    /// `job_` + ULID.
    pub job_id: String,
    /// Unique name.
    pub name: String,
    /// The cron expression as given.
    pub schedule: String,
    /// `active` or `disabled`.
    pub status: &'static str,
    /// Start of the last finished real run.
    pub last_triggered_at: Option<String>,
    /// The next scheduled instant; null when disabled.
    pub next_trigger_at: Option<String>,
    /// Status of the last finished real run.
    pub last_run_status: Option<String>,
    /// The boolean of `status`.
    pub enabled: bool,
    /// IANA time zone of the expression.
    pub timezone: &'static str,
    /// Canonical handler name.
    pub handler: &'static str,
    /// Handler parameters.
    #[schema(value_type = Object)]
    pub params: Value,
    /// When it was registered.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl From<&Job> for CronJobDto {
    fn from(j: &Job) -> Self {
        Self {
            job_id: j.id.clone(),
            name: j.name.as_str().to_owned(),
            schedule: j.schedule.spec.as_str().to_owned(),
            status: j.status(),
            last_triggered_at: opt_instant(j.last_run_at),
            next_trigger_at: opt_instant(j.next_run_at),
            last_run_status: j.last_run_status.clone(),
            enabled: j.enabled,
            timezone: j.schedule.timezone_name(),
            handler: j.handler.as_str(),
            params: params(j),
            created_at: instant(j.created_at),
            updated_at: instant(j.updated_at),
        }
    }
}

/// One job in the cron view, with its lock and last duration.
#[derive(Debug, Serialize, ToSchema)]
pub struct CronJobDetailDto {
    /// The job.
    #[serde(flatten)]
    pub job: CronJobDto,
    /// Whether a running run holds the job's lock.
    pub lock_acquired: bool,
    /// Duration of the last finished real run, or null.
    pub last_run_duration_ms: Option<i64>,
    /// The next 5 instants; empty when disabled.
    pub upcoming: Vec<String>,
}

impl From<&JobDetail> for CronJobDetailDto {
    fn from(d: &JobDetail) -> Self {
        Self {
            job: CronJobDto::from(&d.job),
            lock_acquired: d.lock_acquired,
            last_run_duration_ms: d.last_run.as_ref().and_then(|r| r.duration_ms),
            upcoming: upcoming(d),
        }
    }
}

/// `POST /api/v1/cron/jobs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCronJobBody {
    /// Unique name, 1-128 printable characters (spaces allowed).
    pub name: String,
    /// The cron expression: 5 or 6 fields, or a nickname.
    pub schedule: String,
    /// Canonical name or alias (`reminder_scheduler`, ...).
    pub handler: String,
    /// Default true.
    pub enabled: Option<bool>,
    /// IANA zone, default `UTC`.
    pub timezone: Option<String>,
    /// Handler parameters.
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

impl From<CreateCronJobBody> for NewJob {
    fn from(b: CreateCronJobBody) -> Self {
        Self {
            name: b.name,
            cron_expression: b.schedule,
            timezone: b.timezone,
            handler: b.handler,
            enabled: b.enabled,
            params: b.params,
        }
    }
}

/// `PUT /api/v1/cron/jobs/{id}`: every field optional, at least one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCronJobBody {
    /// New expression.
    pub schedule: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New zone.
    pub timezone: Option<String>,
    /// Replacement parameters.
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
    /// New name.
    pub name: Option<String>,
    /// Must name the job's handler (it cannot change).
    pub handler: Option<String>,
}

impl TryFrom<UpdateCronJobBody> for JobPatch {
    type Error = ApiError;

    fn try_from(b: UpdateCronJobBody) -> Result<Self, ApiError> {
        patch(Self {
            name: b.name,
            cron_expression: b.schedule,
            timezone: b.timezone,
            enabled: b.enabled,
            params: b.params,
            handler: b.handler,
            misfire_deadline_seconds: None,
        })
    }
}

/// The 202 of `POST /api/v1/cron/jobs/{id}/trigger`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CronTriggeredDto {
    /// The job.
    pub job_id: String,
    /// When the run started.
    pub triggered_at: String,
    /// Always true: the run holds the job's lock.
    pub lock_acquired: bool,
    /// The run (`GET /api/v1/runs/{id}`).
    pub run_id: String,
    /// `running`.
    pub status: &'static str,
    /// Whether it is a dry run.
    pub dry_run: bool,
}

impl From<(&Job, &Run)> for CronTriggeredDto {
    fn from((job, run): (&Job, &Run)) -> Self {
        Self {
            job_id: job.id.clone(),
            triggered_at: instant(run.invoked_at),
            lock_acquired: true,
            run_id: run.id.clone(),
            status: run.status.as_str(),
            dry_run: run.dry_run,
        }
    }
}

/// A run in the cron view's `{id}/runs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CronRunDto {
    /// The run.
    pub run_id: String,
    /// The job.
    pub job_id: String,
    /// When it started.
    pub started_at: String,
    /// When it finished; null while running.
    pub completed_at: Option<String>,
    /// `running`, `success`, `failed`, `cancelled`, `skipped` or `missed`.
    pub status: &'static str,
    /// The handler's summary.
    #[schema(value_type = Option<Object>)]
    pub result_summary: Option<Value>,
    /// More about the run.
    #[serde(flatten)]
    pub facts: RunFacts,
}

impl From<(&Job, &Run)> for CronRunDto {
    fn from((job, run): (&Job, &Run)) -> Self {
        Self {
            run_id: run.id.clone(),
            job_id: job.id.clone(),
            started_at: instant(run.invoked_at),
            completed_at: opt_instant(run.completed_at),
            status: run.status.as_str(),
            result_summary: run.result_summary.clone(),
            facts: run.into(),
        }
    }
}

/// The answer of `DELETE /api/v1/cron/jobs/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CronJobDeleted {
    /// Always true.
    pub deleted: bool,
    /// The deleted job.
    pub job_id: String,
}
