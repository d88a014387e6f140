//! The wire types every job view shares: the list queries and the trigger
//! body. What differs between the views (field names, order, answers) is
//! each view's description in `job_view.rs`.

use runtime::TriggerRequest;
use scheduler_core::Handler;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// The longest accepted trigger `reason`, in characters.
pub const MAX_REASON_LEN: usize = 1000;

/// `page` and `limit` only.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageOnlyQuery {
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 20).
    pub limit: Option<i64>,
}

/// Query of the scheduler and cron job lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
