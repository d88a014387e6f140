//! Run-log and schedule-preview wire types (docs/api.md, "Jobs and runs";
//! beyond the contracts).

use chrono::{DateTime, Utc};
use run_log::{BatchResult, BatchWindow, Run, RunFilter, RunStatus, Trigger};
use scenario_engine::rules::{OutOfRange, UnknownName};
use scheduler_core::Handler;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{instant, opt_instant, parse_opt_instant};
use crate::error::ApiError;
use runtime::{Preview, ReportFormat};

/// A run of any job (or an ad-hoc run).
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDto {
    /// `run_` + ULID.
    pub id: String,
    /// The job, if it came from one (the job may be gone since).
    pub job_id: Option<String>,
    /// The job's name when the run started.
    pub job_name: Option<String>,
    /// The handler: `certification_expiry_check`, ...
    pub kind: String,
    /// `schedule` or `manual`.
    pub trigger: &'static str,
    /// Who triggered it by hand.
    pub triggered_by: Option<String>,
    /// Why, if given.
    pub reason: Option<String>,
    /// The scheduled instant, for scheduled runs.
    pub scheduled_for: Option<String>,
    /// Whether it computed only.
    pub dry_run: bool,
    /// `running`, `success`, `failed`, `cancelled`, `skipped` or `missed`.
    pub status: &'static str,
    /// When it started.
    pub invoked_at: String,
    /// When it finished.
    pub completed_at: Option<String>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// Distinct mentors evaluated (scenario-evaluation runs).
    pub users_evaluated: i64,
    /// Notifications enqueued (scenario-evaluation runs).
    pub notifications_dispatched: i64,
    /// The handler's summary.
    #[schema(value_type = Option<Object>)]
    pub result_summary: Option<Value>,
    /// Why it failed.
    pub error_message: Option<String>,
}

impl From<Run> for RunDto {
    fn from(r: Run) -> Self {
        Self {
            id: r.id,
            job_id: r.job_id,
            job_name: r.job_name,
            kind: r.kind,
            trigger: r.trigger.as_str(),
            triggered_by: r.triggered_by,
            reason: r.reason,
            scheduled_for: opt_instant(r.scheduled_for),
            dry_run: r.dry_run,
            status: r.status.as_str(),
            invoked_at: instant(r.invoked_at),
            completed_at: opt_instant(r.completed_at),
            duration_ms: r.duration_ms,
            users_evaluated: r.users_evaluated,
            notifications_dispatched: r.notifications_dispatched,
            result_summary: r.result_summary,
            error_message: r.error_message,
        }
    }
}

/// One batch of a batched run.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResultDto {
    /// From 0.
    pub batch_index: i64,
    /// Mentors in the batch.
    pub user_count: i64,
    /// Notifications enqueued.
    pub notifications_sent: i64,
    /// How long it took.
    pub duration_ms: i64,
}

impl From<BatchResult> for BatchResultDto {
    fn from(b: BatchResult) -> Self {
        Self {
            batch_index: b.batch_index,
            user_count: b.user_count,
            notifications_sent: b.notifications_sent,
            duration_ms: b.duration_ms,
        }
    }
}

/// One run with its batch results.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetailDto {
    /// The run.
    #[serde(flatten)]
    pub run: RunDto,
    /// Its batches, by index (empty for runs without batches).
    pub batch_results: Vec<BatchResultDto>,
}

impl From<(Run, Vec<BatchResult>)> for RunDetailDto {
    fn from((run, batches): (Run, Vec<BatchResult>)) -> Self {
        Self {
            run: run.into(),
            batch_results: batches.into_iter().map(BatchResultDto::from).collect(),
        }
    }
}

/// The largest `batch_limit`.
pub const MAX_BATCH_LIMIT: i64 = 10_000;

/// The largest `batch_after`.
pub const MAX_BATCH_AFTER: i64 = 1_000_000_000;

/// A window of a run's batch results, for a run too long to read whole at
/// every poll (docs/api.md, "Jobs and runs"); without either, every result.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BatchWindowQuery {
    /// Only batches with a larger `batch_index` (0-1000000000); default:
    /// from the first.
    pub batch_after: Option<i64>,
    /// At most this many batch results (0-10000; 0 for none); default: all.
    pub batch_limit: Option<i64>,
}

impl BatchWindowQuery {
    /// The window, checked; never clamped.
    ///
    /// # Errors
    /// [`ApiError::OutOfRange`].
    pub fn window(&self) -> Result<BatchWindow, ApiError> {
        let bounded = |field, value: Option<i64>, max| match value {
            Some(v) if !(0..=max).contains(&v) => Err(OutOfRange {
                field,
                value: v,
                min: 0,
                max,
            }),
            _ => Ok(value),
        };
        let after = bounded("batch_after", self.batch_after, MAX_BATCH_AFTER)?;
        let limit = bounded("batch_limit", self.batch_limit, MAX_BATCH_LIMIT)?;
        Ok(BatchWindow {
            after,
            limit: limit.map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
        })
    }
}

/// Filters of `GET /api/v1/runs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunListQuery {
    /// Only runs of this job.
    pub job_id: Option<String>,
    /// Only runs of this handler (canonical name or alias).
    pub kind: Option<String>,
    /// `running`, `success`, `failed`, `cancelled`, `skipped` or `missed`.
    pub status: Option<String>,
    /// `schedule` or `manual`.
    pub trigger: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// 1-100, default 20.
    pub limit: Option<i64>,
}

impl RunListQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// 422 `unknown_value` listing the valid values; 422 `invalid_id` for a
    /// `job_id` no job can have.
    pub fn filter(&self) -> Result<RunFilter, ApiError> {
        if let Some(id) = &self.job_id {
            scenario_engine::service::validate_platform_id("job_id", id)?;
        }
        let kind = self
            .kind
            .as_deref()
            .map(|k| {
                Handler::parse(k)
                    .map(|h| h.as_str().to_owned())
                    .map_err(|_| UnknownName::new("kind", k, Handler::names().into_iter()))
            })
            .transpose()?;
        let status = self
            .status
            .as_deref()
            .map(|s| {
                RunStatus::parse(s).map_err(|e| UnknownName {
                    field: "status",
                    value: e.value,
                    valid: e.valid,
                })
            })
            .transpose()?;
        let trigger = self
            .trigger
            .as_deref()
            .map(|t| {
                Trigger::parse(t).ok_or_else(|| {
                    UnknownName::new(
                        "trigger",
                        t,
                        [Trigger::Schedule, Trigger::Manual]
                            .into_iter()
                            .map(Trigger::as_str),
                    )
                })
            })
            .transpose()?;
        Ok(RunFilter {
            job_id: self.job_id.clone(),
            kind,
            status,
            trigger,
        })
    }
}

/// Query of `GET /api/v1/runs/{id}/report`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

impl ReportQuery {
    /// The format.
    ///
    /// # Errors
    /// 422 `unknown_value` listing `json` and `csv`.
    pub fn format(&self) -> Result<ReportFormat, ApiError> {
        let Some(name) = self.format.as_deref() else {
            return Ok(ReportFormat::Json);
        };
        ReportFormat::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                UnknownName::new("format", name, ReportFormat::ALL.iter().map(|(n, _)| *n)).into()
            })
    }
}

/// Default number of instants a preview shows.
pub const DEFAULT_PREVIEW_COUNT: i64 = 10;
/// Most instants a preview shows.
pub const MAX_PREVIEW_COUNT: i64 = 100;

/// Query of `GET /api/v1/schedules/preview`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// A cron expression: 5 or 6 fields, or a nickname such as `@daily`.
    pub expression: String,
    /// IANA zone (default `UTC`).
    pub timezone: Option<String>,
    /// RFC 3339; instants strictly after it (default now).
    pub from: Option<String>,
    /// How many instants, 1-100 (default 10).
    pub count: Option<i64>,
}

impl PreviewQuery {
    /// `from` (or `now`) and `count`, validated.
    ///
    /// # Errors
    /// 422 for a bad timestamp or a count out of range.
    pub fn window(&self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, usize), ApiError> {
        let from = parse_opt_instant("from", self.from.as_deref())?.unwrap_or(now);
        let count = self.count.unwrap_or(DEFAULT_PREVIEW_COUNT);
        if !(1..=MAX_PREVIEW_COUNT).contains(&count) {
            return Err(OutOfRange {
                field: "count",
                value: count,
                min: 1,
                max: MAX_PREVIEW_COUNT,
            }
            .into());
        }
        Ok((from, usize::try_from(count).unwrap_or(10)))
    }

    /// The zone, default `UTC`.
    pub fn timezone(&self) -> &str {
        self.timezone.as_deref().unwrap_or("UTC")
    }
}

/// The answer of `GET /api/v1/schedules/preview`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewDto {
    /// The expression as given.
    pub expression: String,
    /// The IANA zone.
    pub timezone: &'static str,
    /// A sentence, for example `At 02:00 every day`.
    pub description: String,
    /// The next firing instants, strictly after `from`.
    pub next: Vec<String>,
}

impl From<Preview> for PreviewDto {
    fn from(p: Preview) -> Self {
        Self {
            expression: p.expression,
            timezone: p.timezone,
            description: p.description,
            next: p.next.into_iter().map(instant).collect(),
        }
    }
}
