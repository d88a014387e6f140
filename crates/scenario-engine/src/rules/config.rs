//! Configuration of the rules: defaults, bounds and the evaluation time zone,
//! and the error of a parameter outside its bounds.

use chrono_tz::Tz;

/// Default inactivity threshold in days.
pub const DEFAULT_THRESHOLD_DAYS: u32 = 7;
/// Default certification-expiry lead time in days.
pub const DEFAULT_LEAD_TIME_DAYS: u32 = 30;
/// Default cooldown between two notifications of one scenario, in days.
pub const DEFAULT_COOLDOWN_DAYS: u32 = 3;
/// Reminder stages below the lead time; stage 0 (the expiry day) always follows.
pub const DEFAULT_EXPIRY_STAGES: [u32; 4] = [30, 14, 7, 1];
/// Accepted `threshold_days`.
pub const THRESHOLD_DAYS_RANGE: std::ops::RangeInclusive<i64> = 1..=3650;
/// Accepted `lead_time_days`.
pub const LEAD_TIME_DAYS_RANGE: std::ops::RangeInclusive<i64> = 0..=3650;
/// Accepted `cooldown_days`.
pub const COOLDOWN_DAYS_RANGE: std::ops::RangeInclusive<i64> = 0..=365;

/// How decisions are made beyond the per-request parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The zone calendar days are counted in.
    pub timezone: Tz,
    /// Cooldown between two notifications of one scenario, in days of elapsed time.
    pub cooldown_days: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            timezone: chrono_tz::UTC,
            cooldown_days: DEFAULT_COOLDOWN_DAYS,
        }
    }
}

impl Rules {
    /// Rules with a cooldown given on the wire.
    ///
    /// # Errors
    /// [`OutOfRange`] unless `0 <= cooldown_days <= 365`.
    pub fn with_cooldown_days(self, cooldown_days: i64) -> Result<Self, OutOfRange> {
        let cooldown_days = in_range("cooldown_days", cooldown_days, COOLDOWN_DAYS_RANGE)?;
        Ok(Self {
            cooldown_days,
            ..self
        })
    }
}

/// A well-typed parameter outside its accepted range (never clamped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be between {min} and {max}, got {value}")]
pub struct OutOfRange {
    /// The parameter, for example `threshold_days`.
    pub field: &'static str,
    /// The value given.
    pub value: i64,
    /// Smallest accepted value.
    pub min: i64,
    /// Largest accepted value.
    pub max: i64,
}

/// `value` as a `u32` when `range` holds it, else [`OutOfRange`] naming `field`.
pub(crate) fn in_range(
    field: &'static str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<u32, OutOfRange> {
    if range.contains(&value) {
        // The ranges are far inside u32.
        u32::try_from(value).map_err(|_| OutOfRange {
            field,
            value,
            min: *range.start(),
            max: *range.end(),
        })
    } else {
        Err(OutOfRange {
            field,
            value,
            min: *range.start(),
            max: *range.end(),
        })
    }
}
