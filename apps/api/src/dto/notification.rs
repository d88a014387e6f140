//! Notification wire types (the outbox row, docs/api.md; beyond the contracts).

use scenario_engine::rules::ScenarioType;
use scenario_engine::service::{JsonText, Notification, NotificationFilter, NotificationStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{check_filter_ids, instant, opt_instant};
use crate::error::ApiError;

/// One outbox notification: every stored field (docs/api.md, "Notifications").
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    /// `ntf_` + ULID.
    pub id: String,
    /// The mentor.
    pub user_id: String,
    /// The mentor's organisation.
    pub org_id: String,
    /// `inactivity`, `milestone` or `certification_expiry`.
    pub scenario_type: &'static str,
    /// The once-only key.
    pub dedupe_key: String,
    /// What the sink delivers: the webhook body (`version`,
    /// `notification_id`, `user_id`, `org_id`, `scenario_type`,
    /// `reason_code`, `reason`, `metadata`, `created_at`).
    #[schema(value_type = Object)]
    pub payload: JsonText,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    pub status: &'static str,
    /// Delivery attempts made.
    pub attempts: u32,
    /// Why the latest attempt failed; null once delivered.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// While pending: when the next attempt is due (during an attempt, when
    /// its claim lapses).
    pub next_attempt_at: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<String>,
    /// The run that enqueued it.
    pub run_id: Option<String>,
    /// The evaluation that fired it; null once that evaluation is deleted.
    pub evaluation_id: Option<String>,
}

impl From<Notification> for NotificationDto {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            user_id: n.user_id,
            org_id: n.org_id,
            scenario_type: n.scenario_type.as_str(),
            dedupe_key: n.dedupe_key,
            payload: n.payload,
            status: n.status.as_str(),
            attempts: n.attempts,
            last_error: n.last_error,
            created_at: instant(n.created_at),
            updated_at: instant(n.updated_at),
            next_attempt_at: opt_instant(n.next_attempt_at),
            delivered_at: opt_instant(n.delivered_at),
            run_id: n.run_id,
            evaluation_id: n.evaluation_id,
        }
    }
}

/// Filters of `GET /api/v1/notifications`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationListQuery {
    /// Only this mentor.
    pub user_id: Option<String>,
    /// `inactivity`, `milestone` or `certification_expiry`.
    pub scenario_type: Option<String>,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    pub status: Option<String>,
    /// Only notifications enqueued by this run.
    pub run_id: Option<String>,
    /// A cursor: only the notifications after the one with this id, in the list's order (newest first). Give the last id of a page to read the next one; `page` counts from the cursor; `total` still counts every match.
    pub after: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// 1-100, default 20.
    pub limit: Option<i64>,
}

impl NotificationListQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// 422 `unknown_value` listing the valid values; 422 `invalid_id` for an
    /// id nothing can have.
    pub fn filter(&self) -> Result<NotificationFilter, ApiError> {
        check_filter_ids(&[
            ("user_id", &self.user_id),
            ("run_id", &self.run_id),
            ("after", &self.after),
        ])?;
        Ok(NotificationFilter {
            user_id: self.user_id.clone(),
            scenario_type: self
                .scenario_type
                .as_deref()
                .map(ScenarioType::parse)
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(NotificationStatus::parse)
                .transpose()?,
            run_id: self.run_id.clone(),
            after: self.after.clone(),
        })
    }
}
