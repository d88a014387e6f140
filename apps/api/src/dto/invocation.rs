//! Scheduler-invocation wire types (the scheduler-invocations contract,
//! docs/api.md; the runs in docs/runs.md): scenario-evaluation runs, their
//! batches, the active mentors an orchestrator reads, and the batches it
//! feeds.

use run_log::{BatchResult, Run, RunStatus, RunUpdate};
use scenario_engine::rules::{OutOfRange, UnknownName};
use scenario_engine::service::{BatchReport, MentorRecord, PageRequest, Paged};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::job::TriggerBody;
use super::run::BatchResultDto;
use super::{instant, opt_instant};
use crate::error::ApiError;
use runtime::{InvocationRequest, MAX_BATCH_SIZE, TriggerRequest};

/// A scheduler invocation: the contract's fields, then the run's others.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvocationDto {
    /// `run_` + ULID.
    pub id: String,
    /// When it started.
    pub invoked_at: String,
    /// `running`, `success`, `failed` or `cancelled` (`skipped` and `missed`
    /// for scheduled firings that did not run).
    pub status: &'static str,
    /// Distinct existing mentors evaluated so far.
    pub users_evaluated: i64,
    /// Notifications enqueued so far (committed with their batches).
    pub notifications_dispatched: i64,
    /// How long it took; null while running.
    pub duration_ms: Option<i64>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Who started it by hand.
    pub triggered_by: Option<String>,
    /// Why, if given.
    pub reason: Option<String>,
    /// The job that fired it; null for an ad-hoc invocation.
    pub job_id: Option<String>,
    /// The job's name when it started.
    pub job_name: Option<String>,
    /// `schedule` or `manual`.
    pub trigger: &'static str,
    /// Evaluations recorded with `dry_run: true`, nothing enqueued.
    pub dry_run: bool,
    /// Fed by an orchestrator through `evaluation-batch`, not processed here.
    pub external: bool,
    /// Mentors per planned batch (runs the service processes).
    pub batch_size: Option<i64>,
    /// Batches in the run's plan, once planned.
    pub planned_batches: Option<i64>,
    /// When it finished.
    pub completed_at: Option<String>,
}

impl From<Run> for InvocationDto {
    fn from(r: Run) -> Self {
        Self {
            id: r.id,
            invoked_at: instant(r.invoked_at),
            status: r.status.as_str(),
            users_evaluated: r.users_evaluated,
            notifications_dispatched: r.notifications_dispatched,
            duration_ms: r.duration_ms,
            error_message: r.error_message,
            triggered_by: r.triggered_by,
            reason: r.reason,
            job_id: r.job_id,
            job_name: r.job_name,
            trigger: r.trigger.as_str(),
            dry_run: r.dry_run,
            external: r.external,
            batch_size: r.batch_size,
            planned_batches: r.planned_batches,
            completed_at: opt_instant(r.completed_at),
        }
    }
}

/// One invocation with its batch results.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvocationDetailDto {
    /// The invocation.
    #[serde(flatten)]
    pub run: InvocationDto,
    /// Its finished batches, by index.
    pub batch_results: Vec<BatchResultDto>,
}

impl From<(Run, Vec<BatchResult>)> for InvocationDetailDto {
    fn from((run, batches): (Run, Vec<BatchResult>)) -> Self {
        Self {
            run: run.into(),
            batch_results: batches.into_iter().map(BatchResultDto::from).collect(),
        }
    }
}

/// Query of the invocation list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvocationListQuery {
    /// Only runs with this status.
    pub status: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// 1-100, default 20.
    pub limit: Option<i64>,
}

impl InvocationListQuery {
    /// The status filter.
    ///
    /// # Errors
    /// 422 `unknown_value` listing the statuses.
    pub fn status(&self) -> Result<Option<RunStatus>, ApiError> {
        self.status
            .as_deref()
            .map(|s| {
                RunStatus::parse(s).map_err(|e| {
                    ApiError::from(UnknownName {
                        field: "status",
                        value: e.value,
                        valid: e.valid,
                    })
                })
            })
            .transpose()
    }
}

/// `POST /api/v1/scheduler-invocations`; the body may be left out.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvocationBody {
    /// Why (at most 1000 characters).
    pub reason: Option<String>,
    /// Who asked (1-128 characters, no control characters).
    pub triggered_by: Option<String>,
    /// Record evaluations with `dry_run: true` and enqueue nothing (default false).
    pub dry_run: Option<bool>,
    /// An orchestrator feeds the run through `evaluation-batch` and finishes
    /// it with `PUT`; the service does not process it (default false).
    pub external: Option<bool>,
    /// Mentors per batch, 1-500 (default 50); not for external runs.
    pub batch_size: Option<i64>,
}

impl TryFrom<InvocationBody> for InvocationRequest {
    type Error = ApiError;

    fn try_from(b: InvocationBody) -> Result<Self, ApiError> {
        let TriggerRequest {
            triggered_by,
            reason,
            dry_run,
        } = TriggerRequest::try_from(TriggerBody {
            triggered_by: b.triggered_by,
            dry_run: b.dry_run,
            reason: b.reason,
        })?;
        let external = b.external.unwrap_or(false);
        let batch_size = match b.batch_size {
            None => None,
            Some(_) if external => {
                return Err(ApiError::Invalid {
                    field: Some("batch_size"),
                    message: "batch_size is for runs the service processes; an external run's batches are the ones its orchestrator sends".into(),
                });
            }
            Some(n) => Some(
                u32::try_from(n)
                    .ok()
                    .filter(|n| (1..=MAX_BATCH_SIZE).contains(n))
                    .ok_or(OutOfRange {
                        field: "batch_size",
                        value: n,
                        min: 1,
                        max: i64::from(MAX_BATCH_SIZE),
                    })?,
            ),
        };
        Ok(Self {
            triggered_by,
            reason,
            dry_run,
            external,
            batch_size,
        })
    }
}

/// The statuses a `PUT` may ask for.
pub(crate) const PUT_STATUSES: [RunStatus; 4] = [
    RunStatus::Running,
    RunStatus::Success,
    RunStatus::Failed,
    RunStatus::Cancelled,
];

/// The longest accepted `error_message`, in characters.
pub const MAX_ERROR_MESSAGE_LEN: usize = 2000;

/// `PUT /api/v1/scheduler-invocations/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvocationUpdateBody {
    /// `success`, `failed` or `cancelled` (or `running`, which changes nothing).
    pub status: Option<String>,
    /// Error details to attach (at most 2000 characters).
    pub error_message: Option<String>,
}

impl TryFrom<InvocationUpdateBody> for RunUpdate {
    type Error = ApiError;

    fn try_from(b: InvocationUpdateBody) -> Result<Self, ApiError> {
        let status = b
            .status
            .as_deref()
            .map(|s| {
                PUT_STATUSES
                    .into_iter()
                    .find(|t| t.as_str() == s)
                    .ok_or_else(|| {
                        UnknownName::new("status", s, PUT_STATUSES.iter().map(|t| t.as_str()))
                    })
            })
            .transpose()?;
        if let Some(m) = &b.error_message {
            super::check_free_text("error_message", m, MAX_ERROR_MESSAGE_LEN)?;
        }
        if status.is_none() && b.error_message.is_none() {
            return Err(ApiError::Invalid {
                field: None,
                message: "nothing to update: give status, error_message or both".into(),
            });
        }
        Ok(Self {
            status,
            error_message: b.error_message,
        })
    }
}

/// The answer of `DELETE /api/v1/scheduler-invocations/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvocationDeleted {
    /// Always true.
    pub success: bool,
    /// The run.
    pub deleted_id: String,
}

/// The default page of `active-peer-mentors` (docs/api.md, "Lists").
pub const ACTIVE_DEFAULT_LIMIT: u32 = 1000;
/// The largest page of `active-peer-mentors`.
pub const ACTIVE_MAX_LIMIT: u32 = 5000;

/// Query of `active-peer-mentors`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivePeerMentorsQuery {
    /// Only this organisation.
    pub org_id: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// 1-5000, default 1000.
    pub limit: Option<i64>,
}

impl ActivePeerMentorsQuery {
    /// The page, with this endpoint's own limit bounds.
    ///
    /// # Errors
    /// 422 `out_of_range`; 422 `invalid_id` for an `org_id` no mentor can have.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        if let Some(org) = &self.org_id {
            scenario_engine::service::validate_platform_id("org_id", org)?;
        }
        let bounded = |field: &'static str, value: Option<i64>, default: u32, max: u32| match value
        {
            None => Ok(default),
            Some(v) => u32::try_from(v)
                .ok()
                .filter(|v| (1..=max).contains(v))
                .ok_or(OutOfRange {
                    field,
                    value: v,
                    min: 1,
                    max: i64::from(max),
                }),
        };
        Ok(PageRequest {
            page: bounded("page", self.page, 1, u32::MAX)?,
            limit: bounded("limit", self.limit, ACTIVE_DEFAULT_LIMIT, ACTIVE_MAX_LIMIT)?,
        })
    }
}

/// One active mentor, as an orchestrator reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivePeerMentorDto {
    /// The platform's user id.
    pub user_id: String,
    /// The organisation.
    pub org_id: String,
    /// Last activity; null for a mentor never active.
    pub last_active_at: Option<String>,
}

/// The answer of `active-peer-mentors`: the contract's shape, plus the page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivePeerMentorsDto {
    /// Active mentors in `user_id` order.
    pub active_peer_mentors: Vec<ActivePeerMentorDto>,
    /// Active mentors over all pages.
    pub total: u64,
    /// This page, from 1.
    pub page: u32,
    /// Rows per page.
    pub limit: u32,
}

impl ActivePeerMentorsDto {
    /// The answer for one page.
    pub fn of(paged: Paged<MentorRecord>, page: PageRequest) -> Self {
        Self {
            active_peer_mentors: paged
                .rows
                .into_iter()
                .map(|r| ActivePeerMentorDto {
                    last_active_at: opt_instant(r.mentor.last_active_at),
                    user_id: r.mentor.user_id,
                    org_id: r.mentor.org_id,
                })
                .collect(),
            total: paged.total,
            page: page.page,
            limit: page.limit,
        }
    }
}

/// `POST /api/v1/scheduler-invocations/evaluation-batch`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationBatchBody {
    /// The users to evaluate: 1-500 ids, each once; unknown ids get an
    /// `unknown_user` result.
    pub user_ids: Vec<String>,
    /// An external run that is `running`.
    pub run_id: String,
}

/// One (user, scenario) result of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchUserResultDto {
    /// The user id as given.
    pub user_id: String,
    /// `inactivity`, `milestone` or `certification_expiry`; null for an unknown user.
    pub scenario_type: Option<&'static str>,
    /// Whether a notification was enqueued.
    pub notified: bool,
    /// The reason code (as the contract shows it in `reason`).
    pub reason: String,
    /// The same code.
    pub reason_code: String,
}

/// The answer of `evaluation-batch`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationBatchDto {
    /// The run.
    pub run_id: String,
    /// This batch's index in the run.
    pub batch_index: i64,
    /// Distinct existing mentors evaluated in this batch.
    pub users_evaluated: i64,
    /// Notifications this batch enqueued.
    pub notifications_dispatched: i64,
    /// How long the batch took.
    pub duration_ms: i64,
    /// One result per (user, scenario type), and one per unknown user.
    pub results: Vec<BatchUserResultDto>,
}

impl From<BatchReport> for EvaluationBatchDto {
    fn from(r: BatchReport) -> Self {
        Self {
            run_id: r.run_id,
            batch_index: r.batch_index,
            users_evaluated: r.users_evaluated,
            notifications_dispatched: r.notifications_sent,
            duration_ms: r.duration_ms,
            results: r
                .results
                .into_iter()
                .map(|u| BatchUserResultDto {
                    user_id: u.user_id,
                    scenario_type: u.scenario_type.map(|t| t.as_str()),
                    notified: u.notified,
                    reason: u.reason_code.clone(),
                    reason_code: u.reason_code,
                })
                .collect(),
        }
    }
}
