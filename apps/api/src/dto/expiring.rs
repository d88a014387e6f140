//! Wire types of the required certifications that expire soon (docs/api.md,
//! "Certifications expiring soon"; beyond the contracts).

use chrono::{DateTime, Utc};
use scenario_engine::rules::{OutOfRange, calendar_days_between};
use serde::{Deserialize, Serialize};
use storage_diesel::ExpiringCertification;
use utoipa::{IntoParams, ToSchema};

use super::instant;
use crate::error::ApiError;

/// The window looked at when `within_days` is left out.
pub const DEFAULT_WITHIN_DAYS: i64 = 30;

/// The widest window, in days.
pub const MAX_WITHIN_DAYS: i64 = 366;

/// One required certification that expires in the window, with its mentor.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringCertificationDto {
    /// The mentor.
    pub user_id: String,
    /// The mentor's organisation.
    pub org_id: String,
    /// The mentor's status: `active`, `paused` or `inactive`.
    pub status: String,
    /// The mentor's pause reason, when paused.
    pub pause_reason: Option<String>,
    /// The certification.
    pub certification_id: String,
    /// Its name.
    pub name: String,
    /// When it expires.
    pub expires_at: String,
    /// Calendar days (UTC) from now to the expiry.
    pub days_until_expiry: i64,
}

impl ExpiringCertificationDto {
    /// The row as seen at `now`.
    pub fn at(now: DateTime<Utc>, c: ExpiringCertification) -> Self {
        Self {
            days_until_expiry: calendar_days_between(now, c.expires_at, chrono_tz::UTC),
            user_id: c.user_id,
            org_id: c.org_id,
            status: c.status,
            pause_reason: c.pause_reason,
            certification_id: c.certification_id,
            name: c.name,
            expires_at: instant(c.expires_at),
        }
    }
}

/// Query of `GET /api/v1/certifications/expiring`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExpiringQuery {
    /// The window from now, 1-366 days, default 30.
    pub within_days: Option<i64>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// 1-100, default 20.
    pub limit: Option<i64>,
}

impl ExpiringQuery {
    /// The window's length in days.
    ///
    /// # Errors
    /// 422 `out_of_range` outside 1-366.
    pub fn within_days(&self) -> Result<i64, ApiError> {
        match self.within_days {
            None => Ok(DEFAULT_WITHIN_DAYS),
            Some(d) if (1..=MAX_WITHIN_DAYS).contains(&d) => Ok(d),
            Some(d) => Err(OutOfRange {
                field: "within_days",
                value: d,
                min: 1,
                max: MAX_WITHIN_DAYS,
            }
            .into()),
        }
    }
}
