//! The one place where instants and JSON cross into column types.

use chrono::{DateTime, Utc};

use crate::error::StorageError;

/// An instant as stored: milliseconds since the epoch, UTC.
pub(crate) fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored instant back; out-of-range values are corrupt rows.
pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_millis(ms).ok_or(StorageError::Corrupt("instant out of range"))
}

pub(crate) fn opt_from_millis(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StorageError> {
    ms.map(from_millis).transpose()
}

pub(crate) fn to_json_text(v: &serde_json::Value) -> String {
    scenario_engine::service::json_text(v)
}

/// Stored JSON kept as its text ([`JsonText`](scenario_engine::service::JsonText)), once checked to be JSON.
pub(crate) fn stored_json(
    text: String,
) -> Result<scenario_engine::service::JsonText, StorageError> {
    scenario_engine::service::JsonText::parse(text)
        .map_err(|_| StorageError::Corrupt("stored JSON does not parse"))
}

pub(crate) fn from_json_text(s: &str) -> Result<serde_json::Value, StorageError> {
    serde_json::from_str(s).map_err(|_| StorageError::Corrupt("stored JSON does not parse"))
}
