//! Wire types, shaped by the API contracts, and their conversions into
//! domain types. Enums arrive as strings and numbers as wide integers, so
//! that a well-typed but invalid value is a 422 rather than a 400
//! (docs/api.md, "Requests and answers").

pub mod evaluation;
pub mod expiring;
pub mod invocation;
pub mod job;
pub mod mentor;
pub mod notification;
pub mod run;

use chrono::{DateTime, Utc};
use scenario_engine::rules::{format_instant, truncate_to_seconds};
use scenario_engine::service::{PageRequest, Paged};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Pagination of a list response.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Pagination {
    /// Page number, from 1.
    pub page: u32,
    /// Rows per page.
    pub limit: u32,
    /// Matches over all pages.
    pub total: u64,
}

/// `{"data": [...], "pagination": {...}}`.
#[derive(Debug, Serialize)]
pub struct ListBody<T> {
    /// The rows.
    pub data: Vec<T>,
    /// Where this page is.
    pub pagination: Pagination,
}

impl<T> ListBody<T> {
    /// The same page with each row seen through `f` (borrowing the rows).
    pub fn map<'a, U>(&'a self, f: impl Fn(&'a T) -> U) -> ListBody<U> {
        ListBody {
            data: self.data.iter().map(f).collect(),
            pagination: self.pagination,
        }
    }

    /// A list body from a page of domain rows.
    pub fn of<D>(paged: Paged<D>, page: PageRequest, f: impl Fn(D) -> T) -> Self {
        Self {
            data: paged.rows.into_iter().map(f).collect(),
            pagination: Pagination {
                page: page.page,
                limit: page.limit,
                total: paged.total,
            },
        }
    }
}

/// `page` and `limit` as they arrive.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 20).
    pub limit: Option<i64>,
}

/// Default rows per page.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most rows per page.
pub const MAX_LIMIT: i64 = 100;
/// Highest page number.
pub const MAX_PAGE: i64 = u32::MAX as i64;

/// Validates `page` (>= 1) and `limit` (1-100); never clamps.
///
/// # Errors
/// [`ApiError::OutOfRange`].
pub fn page_request(page: Option<i64>, limit: Option<i64>) -> Result<PageRequest, ApiError> {
    let page = match page {
        None => 1,
        Some(p) if (1..=MAX_PAGE).contains(&p) => u32::try_from(p).unwrap_or(u32::MAX),
        Some(p) => {
            return Err(scenario_engine::rules::OutOfRange {
                field: "page",
                value: p,
                min: 1,
                max: MAX_PAGE,
            }
            .into());
        }
    };
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(l) if (1..=MAX_LIMIT).contains(&l) => u32::try_from(l).unwrap_or(100),
        Some(l) => {
            return Err(scenario_engine::rules::OutOfRange {
                field: "limit",
                value: l,
                min: 1,
                max: MAX_LIMIT,
            }
            .into());
        }
    };
    Ok(PageRequest { page, limit })
}

/// Reads an RFC 3339 instant with any offset; stored in UTC, truncated to seconds.
///
/// # Errors
/// [`ApiError::Invalid`] naming the field.
pub fn parse_instant(field: &'static str, s: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| truncate_to_seconds(t.with_timezone(&Utc)))
        .map_err(|e| ApiError::Invalid {
            field: Some(field),
            message: format!(
                "{field} must be an RFC 3339 timestamp such as 2026-03-25T08:00:00Z ({e})"
            ),
        })
}

/// An optional instant field.
///
/// # Errors
/// [`ApiError::Invalid`] naming the field.
pub fn parse_opt_instant(
    field: &'static str,
    s: Option<&str>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    s.map(|s| parse_instant(field, s)).transpose()
}

/// An instant on the wire, in whole seconds (run instants are stored with
/// milliseconds).
pub fn instant(t: DateTime<Utc>) -> String {
    format_instant(truncate_to_seconds(t))
}

/// An optional instant on the wire.
pub fn opt_instant(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(instant)
}

/// Checks the platform ids a list is filtered by or paged from (a cursor):
/// an id nothing can have is a 422 `invalid_id`, not an empty page.
///
/// # Errors
/// [`ApiError::InvalidId`] naming the field.
pub fn check_filter_ids(ids: &[(&'static str, &Option<String>)]) -> Result<(), ApiError> {
    for (field, value) in ids {
        if let Some(v) = value {
            scenario_engine::service::validate_platform_id(field, v)?;
        }
    }
    Ok(())
}

/// Checks a free-text field (a trigger's `reason`, a run's `error_message`):
/// at most `max` characters, no control characters but line breaks and tabs.
///
/// # Errors
/// [`ApiError::Invalid`] naming the field.
pub fn check_free_text(field: &'static str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max
        || value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::Invalid {
            field: Some(field),
            message: format!(
                "{field} must be at most {max} characters, without control characters other than line breaks and tabs"
            ),
        });
    }
    Ok(())
}

/// Parses a boolean query value (`true` / `false`).
///
/// # Errors
/// [`ApiError::MalformedQuery`].
pub fn parse_bool(field: &'static str, s: Option<&str>) -> Result<Option<bool>, ApiError> {
    match s {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::MalformedQuery(format!(
            "{field} must be `true` or `false`, got `{other}`"
        ))),
    }
}
