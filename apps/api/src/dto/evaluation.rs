//! Scenario-trigger-evaluation wire types (the scenario-trigger-evaluations
//! contract, docs/api.md).

use scenario_engine::rules::{MilestoneType, ReasonCode, Scenario, ScenarioType};
use scenario_engine::service::{
    EvaluationFilter, EvaluationOverride, EvaluationRecord, JsonText, ShouldNotify,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{check_filter_ids, instant, parse_bool, parse_opt_instant};
use crate::error::ApiError;

/// One recorded evaluation: the contract's fields plus `reason`,
/// `reason_code`, `run_id` and `dry_run`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationDto {
    /// `trg_` + ULID.
    pub id: String,
    /// The mentor.
    pub user_id: String,
    /// `inactivity`, `milestone` or `certification_expiry`.
    pub scenario_type: &'static str,
    /// The decision (possibly overridden).
    pub should_notify: bool,
    /// When it was decided.
    pub evaluated_at: String,
    /// The numbers behind the decision.
    #[schema(value_type = Object)]
    pub evaluation_metadata: JsonText,
    /// A sentence.
    pub reason: String,
    /// A stable machine code.
    pub reason_code: &'static str,
    /// The run it belongs to, if any.
    pub run_id: Option<String>,
    /// The run's batch that decided it (runs only).
    pub batch_index: Option<i64>,
    /// Whether it was a dry run.
    pub dry_run: bool,
}

impl From<EvaluationRecord> for EvaluationDto {
    fn from(e: EvaluationRecord) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id,
            scenario_type: e.scenario_type.as_str(),
            should_notify: e.should_notify,
            evaluated_at: instant(e.evaluated_at),
            evaluation_metadata: e.evaluation_metadata,
            reason: e.reason,
            reason_code: e.reason_code.as_str(),
            run_id: e.run_id,
            batch_index: e.batch_index,
            dry_run: e.dry_run,
        }
    }
}

/// The scenario parameters every evaluation request may carry.
fn scenario_of(
    scenario_type: ScenarioType,
    threshold_days: Option<i64>,
    milestone_type: Option<&str>,
    lead_time_days: Option<i64>,
) -> Result<Scenario, ApiError> {
    // Every field given is checked, also those another scenario would use:
    // a bad value is a 422 wherever it is sent.
    let inactivity = Scenario::inactivity(threshold_days)?;
    let expiry = Scenario::certification_expiry(lead_time_days)?;
    let milestone = milestone_type.map(MilestoneType::parse).transpose()?;
    Ok(match scenario_type {
        ScenarioType::Inactivity => inactivity,
        ScenarioType::CertificationExpiry => expiry,
        ScenarioType::Milestone => {
            let Some(milestone_type) = milestone else {
                return Err(ApiError::MissingChoice {
                    field: "milestone_type",
                    valid: MilestoneType::ALL.iter().map(|t| t.as_str()).collect(),
                });
            };
            Scenario::Milestone { milestone_type }
        }
    })
}

/// `POST /api/v1/scenario-trigger-evaluations`: evaluate and record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvaluationBody {
    /// The mentor.
    pub user_id: String,
    /// `inactivity`, `milestone` or `certification_expiry`.
    pub scenario_type: String,
    /// Inactivity threshold, 1-3650 (default 7).
    pub threshold_days: Option<i64>,
    /// Required for `milestone`.
    pub milestone_type: Option<String>,
    /// Certification-expiry lead time, 0-3650 (default 30).
    pub lead_time_days: Option<i64>,
    /// Record with `dry_run: true` and enqueue nothing.
    pub dry_run: Option<bool>,
}

impl CreateEvaluationBody {
    /// The user id and validated scenario.
    ///
    /// # Errors
    /// 422s for unknown names and out-of-range numbers.
    pub fn scenario(&self) -> Result<Scenario, ApiError> {
        let t = ScenarioType::parse(&self.scenario_type)?;
        scenario_of(
            t,
            self.threshold_days,
            self.milestone_type.as_deref(),
            self.lead_time_days,
        )
    }
}

/// `POST .../evaluate/inactivity`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InactivityBody {
    /// The mentor.
    pub user_id: String,
    /// 1-3650 (default 7).
    pub threshold_days: Option<i64>,
    /// Record with `dry_run: true` and enqueue nothing.
    pub dry_run: Option<bool>,
}

/// `POST .../evaluate/milestone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneBody {
    /// The mentor.
    pub user_id: String,
    /// `first_session_completed`, `sessions_10`, `sessions_50` or `one_year_active`.
    pub milestone_type: String,
    /// Record with `dry_run: true` and enqueue nothing.
    pub dry_run: Option<bool>,
}

/// `POST .../evaluate/certification-expiry`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationExpiryBody {
    /// The mentor.
    pub user_id: String,
    /// 0-3650 (default 30).
    pub lead_time_days: Option<i64>,
    /// Record with `dry_run: true` and enqueue nothing.
    pub dry_run: Option<bool>,
}

/// `PUT /api/v1/scenario-trigger-evaluations/{id}`: override.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    /// New outcome; `false` cancels a still-pending notification, `true` never enqueues.
    pub should_notify: Option<bool>,
    /// Replaces the metadata (a JSON object).
    #[schema(value_type = Option<Object>)]
    pub evaluation_metadata: Option<Map<String, Value>>,
}

impl TryFrom<OverrideBody> for EvaluationOverride {
    type Error = ApiError;

    fn try_from(b: OverrideBody) -> Result<Self, ApiError> {
        if b.should_notify.is_none() && b.evaluation_metadata.is_none() {
            return Err(ApiError::Invalid {
                field: None,
                message: "nothing to update: give should_notify and/or evaluation_metadata".into(),
            });
        }
        Ok(Self {
            should_notify: b.should_notify,
            evaluation_metadata: b.evaluation_metadata,
        })
    }
}

/// `DELETE /api/v1/scenario-trigger-evaluations/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationDeleted {
    /// Always true.
    pub success: bool,
    /// The deleted id.
    pub deleted_id: String,
}

/// Filters of `GET /api/v1/scenario-trigger-evaluations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvaluationListQuery {
    /// Only this mentor.
    pub user_id: Option<String>,
    /// Only this scenario.
    pub scenario_type: Option<String>,
    /// `true` or `false`.
    pub should_notify: Option<String>,
    /// Only this run.
    pub run_id: Option<String>,
    /// Only this reason code.
    pub reason_code: Option<String>,
    /// `true` or `false`.
    pub dry_run: Option<String>,
    /// RFC 3339: `evaluated_at >= from`.
    pub from: Option<String>,
    /// RFC 3339: `evaluated_at <= to`.
    pub to: Option<String>,
    /// A cursor: only the evaluations after the one with this id, in the list's order (newest first). Give the last id of a page to read the next one; `page` counts from the cursor; `total` still counts every match.
    pub after: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// 1-100, default 20.
    pub limit: Option<i64>,
}

impl EvaluationListQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// 400 for malformed booleans; 422 for unknown names and bad timestamps.
    pub fn filter(&self) -> Result<EvaluationFilter, ApiError> {
        check_filter_ids(&[
            ("user_id", &self.user_id),
            ("run_id", &self.run_id),
            ("after", &self.after),
        ])?;
        Ok(EvaluationFilter {
            user_id: self.user_id.clone(),
            scenario_type: self
                .scenario_type
                .as_deref()
                .map(ScenarioType::parse)
                .transpose()?,
            should_notify: parse_bool("should_notify", self.should_notify.as_deref())?,
            run_id: self.run_id.clone(),
            reason_code: self
                .reason_code
                .as_deref()
                .map(ReasonCode::parse)
                .transpose()?,
            dry_run: parse_bool("dry_run", self.dry_run.as_deref())?,
            from: parse_opt_instant("from", self.from.as_deref())?,
            to: parse_opt_instant("to", self.to.as_deref())?,
            after: self.after.clone(),
        })
    }
}

/// Query of `GET .../users/{user_id}/should-notify`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ShouldNotifyQuery {
    /// Default `inactivity`.
    pub scenario_type: Option<String>,
    /// Inactivity threshold, 1-3650 (default 7).
    pub threshold_days: Option<i64>,
    /// Required for `milestone`.
    pub milestone_type: Option<String>,
    /// Certification-expiry lead time, 0-3650 (default 30).
    pub lead_time_days: Option<i64>,
}

impl ShouldNotifyQuery {
    /// The validated scenario.
    ///
    /// # Errors
    /// 422s for unknown names and out-of-range numbers.
    pub fn scenario(&self) -> Result<Scenario, ApiError> {
        let t = self
            .scenario_type
            .as_deref()
            .map_or(Ok(ScenarioType::Inactivity), ScenarioType::parse)?;
        scenario_of(
            t,
            self.threshold_days,
            self.milestone_type.as_deref(),
            self.lead_time_days,
        )
    }
}

/// The answer of `should-notify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShouldNotifyDto {
    /// The mentor.
    pub user_id: String,
    /// The scenario.
    pub scenario_type: &'static str,
    /// The decision.
    pub should_notify: bool,
    /// Whether the cooldown is satisfied.
    pub cooldown_satisfied: bool,
    /// Whether preferences allow it.
    pub preference_enabled: bool,
    /// When it was decided.
    pub evaluated_at: String,
    /// A sentence.
    pub reason: String,
    /// A stable machine code.
    pub reason_code: &'static str,
}

impl From<ShouldNotify> for ShouldNotifyDto {
    fn from(s: ShouldNotify) -> Self {
        Self {
            user_id: s.user_id,
            scenario_type: s.scenario_type.as_str(),
            should_notify: s.should_notify,
            cooldown_satisfied: s.cooldown_satisfied,
            preference_enabled: s.preference_enabled,
            evaluated_at: instant(s.evaluated_at),
            reason: s.reason,
            reason_code: s.reason_code.as_str(),
        }
    }
}
