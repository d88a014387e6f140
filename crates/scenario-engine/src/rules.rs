//! Configuration of the rules: defaults, bounds and the evaluation time zone.

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
    /// [`OutOfRange`](crate::OutOfRange) unless `0 <= cooldown_days <= 365`.
    pub fn with_cooldown_days(self, cooldown_days: i64) -> Result<Self, crate::OutOfRange> {
        let cooldown_days =
            crate::scenario::in_range("cooldown_days", cooldown_days, COOLDOWN_DAYS_RANGE)?;
        Ok(Self {
            cooldown_days,
            ..self
        })
    }
}
