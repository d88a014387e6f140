//! Calendar-day arithmetic in a time zone, and the wire form of instants
//! (whole seconds, `Z`).
//!
//! Days are differences of local calendar dates (docs/rules.md, "Counting
//! days"), not floored 24-hour periods: last active on the afternoon of the
//! 16th and evaluated on the morning of the 25th is 9 days, although fewer
//! than 9 × 24 hours passed.

use std::fmt;

use chrono::format::{Item, Numeric, Pad};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

/// The wire format of every instant the service writes: UTC, second
/// precision, `Z` suffix (docs/api.md, "Identifiers and timestamps"). It is
/// `%Y-%m-%dT%H:%M:%SZ`, pre-parsed so that checking a dedupe key against a
/// stored one does not parse the format string each time.
const INSTANT_ITEMS: [Item<'static>; 12] = [
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Literal("T"),
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
    Item::Literal("Z"),
];

/// Whole calendar days from `from` to `to` in `tz`, not floored 24-hour periods
/// (docs/rules.md, "Counting days").
///
/// The result is the local date of `to` minus the local date of `from`, both
/// taken in `tz`; it is negative when `to` falls on an earlier local date.
/// The time of day does not matter, so a day with a daylight-saving change
/// counts as one day like any other.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::rules::calendar_days_between;
/// let last_active = Utc.with_ymd_and_hms(2026, 3, 16, 14, 22, 0).unwrap();
/// let evaluated = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
/// assert_eq!(calendar_days_between(last_active, evaluated, chrono_tz::UTC), 9);
///
/// // 23:30 UTC on the 24th is already the 25th in Oslo (UTC+1 in March).
/// let late = Utc.with_ymd_and_hms(2026, 3, 24, 23, 30, 0).unwrap();
/// assert_eq!(calendar_days_between(last_active, late, chrono_tz::UTC), 8);
/// assert_eq!(calendar_days_between(last_active, late, chrono_tz::Europe::Oslo), 9);
/// ```
pub fn calendar_days_between(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> i64 {
    days_between_dates(local_date(from, tz), local_date(to, tz))
}

/// `t` in the wire format: UTC, whole seconds, `Z` suffix.
///
/// Sub-second digits are dropped, never rounded, as storage truncates input
/// timestamps to seconds.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::rules::format_instant;
/// let t = Utc.with_ymd_and_hms(2026, 3, 16, 14, 22, 0).unwrap();
/// assert_eq!(format_instant(t), "2026-03-16T14:22:00Z");
/// ```
pub fn format_instant(t: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(INSTANT_LEN);
    // Writing to a `String` cannot fail.
    let _ = write_instant(&mut out, t);
    out
}

/// The length of an instant of a four-digit year in the wire format.
const INSTANT_LEN: usize = "2026-03-16T14:22:00Z".len();

/// Writes `t` as [`format_instant`] does, without allocating. Instants of
/// years 0-9999 are written digit by digit (every page of a list writes
/// several per row, and chrono's formatter took a twentieth of a page);
/// others, and a leap second, go through chrono.
pub(crate) fn write_instant(out: &mut impl fmt::Write, t: DateTime<Utc>) -> fmt::Result {
    let Ok(year) = u32::try_from(t.year()) else {
        return write!(out, "{}", t.format_with_items(INSTANT_ITEMS.iter()));
    };
    if year > 9999 || t.nanosecond() >= 1_000_000_000 {
        return write!(out, "{}", t.format_with_items(INSTANT_ITEMS.iter()));
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    let digits = |text: &mut [u8; INSTANT_LEN], at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            // `v % 10` is a digit: the cast cannot truncate.
            text[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(&mut text, 0, year, 4);
    digits(&mut text, 5, t.month(), 2);
    digits(&mut text, 8, t.day(), 2);
    digits(&mut text, 11, t.hour(), 2);
    digits(&mut text, 14, t.minute(), 2);
    digits(&mut text, 17, t.second(), 2);
    match std::str::from_utf8(&text) {
        Ok(text) => out.write_str(text),
        Err(_) => write!(out, "{}", t.format_with_items(INSTANT_ITEMS.iter())),
    }
}

/// `%Y-%m-%d`, pre-parsed like [`INSTANT_ITEMS`].
const DATE_ITEMS: [Item<'static>; 5] = [
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
];

/// Writes `date` as `%Y-%m-%d`, without allocating.
pub(crate) fn write_date(out: &mut impl fmt::Write, date: NaiveDate) -> fmt::Result {
    write!(out, "{}", date.format_with_items(DATE_ITEMS.iter()))
}

/// The calendar date of `t` in `tz`.
pub(crate) fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    // UTC is the default zone: skip chrono-tz's search for the offset span.
    if tz == Tz::UTC {
        t.date_naive()
    } else {
        t.with_timezone(&tz).date_naive()
    }
}

/// `to - from` in days.
pub(crate) fn days_between_dates(from: NaiveDate, to: NaiveDate) -> i64 {
    i64::from(to.num_days_from_ce()) - i64::from(from.num_days_from_ce())
}

/// Truncates an instant to whole seconds, as input timestamps are stored
/// (docs/api.md, "Identifiers and timestamps").
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::rules::truncate_to_seconds;
/// let t = Utc.timestamp_millis_opt(1_774_425_600_999).unwrap();
/// assert_eq!(truncate_to_seconds(t).timestamp_millis(), 1_774_425_600_000);
/// ```
pub fn truncate_to_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::{America, Europe, Pacific};

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn instants_are_written_as_chrono_writes_them() {
        let chrono_writes =
            |t: DateTime<Utc>| t.format_with_items(INSTANT_ITEMS.iter()).to_string();
        let mut t = utc(1969, 12, 31, 23, 59, 59);
        // Every field's digits, across days, months, years and a leap day.
        for _ in 0..20_000 {
            assert_eq!(format_instant(t), chrono_writes(t));
            t += chrono::TimeDelta::seconds(3_607 * 7 + 13);
        }
        let with_millis = utc(2026, 3, 16, 14, 22, 0) + chrono::TimeDelta::milliseconds(999);
        assert_eq!(format_instant(with_millis), "2026-03-16T14:22:00Z");
        for t in [
            utc(0, 1, 1, 0, 0, 0),
            utc(9999, 12, 31, 23, 59, 59),
            utc(10_000, 1, 1, 0, 0, 0),
            utc(-1, 6, 1, 12, 0, 0),
            utc(2016, 12, 31, 23, 59, 59) + chrono::TimeDelta::nanoseconds(999_999_999),
        ] {
            assert_eq!(format_instant(t), chrono_writes(t), "{t:?}");
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_500)
            .unwrap()
            .and_utc();
        assert_eq!(format_instant(leap), chrono_writes(leap));
        assert_eq!(format_instant(leap), "2016-12-31T23:59:60Z");
    }

    #[test]
    fn contract_inactivity_example_counts_nine_days() {
        let from = utc(2026, 3, 16, 14, 22, 0);
        let to = utc(2026, 3, 25, 8, 0, 0);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 9);
    }

    #[test]
    fn contract_expiry_example_counts_thirty_days() {
        let now = utc(2026, 3, 26, 9, 22, 0);
        let expiry = utc(2026, 4, 25, 0, 0, 0);
        assert_eq!(calendar_days_between(now, expiry, chrono_tz::UTC), 30);
    }

    #[test]
    fn same_local_date_is_zero_days_whatever_the_hours() {
        let from = utc(2026, 3, 25, 0, 0, 0);
        let to = utc(2026, 3, 25, 23, 59, 59);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 0);
        assert_eq!(calendar_days_between(to, from, chrono_tz::UTC), 0);
    }

    #[test]
    fn one_second_across_midnight_is_one_day() {
        let from = utc(2026, 3, 24, 23, 59, 59);
        let to = utc(2026, 3, 25, 0, 0, 0);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 1);
    }

    #[test]
    fn earlier_to_gives_a_negative_count() {
        let from = utc(2026, 3, 25, 8, 0, 0);
        let to = utc(2026, 3, 16, 14, 22, 0);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), -9);
    }

    #[test]
    fn month_boundary_from_january_31_to_march_1_is_29_days() {
        let from = utc(2026, 1, 31, 12, 0, 0);
        let to = utc(2026, 3, 1, 6, 0, 0);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 29);
    }

    #[test]
    fn year_boundary_from_december_31_to_january_1_is_one_day() {
        let from = utc(2025, 12, 31, 23, 0, 0);
        let to = utc(2026, 1, 1, 1, 0, 0);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 1);
    }

    #[test]
    fn leap_year_february_has_29_days() {
        let from = utc(2028, 2, 28, 12, 0, 0);
        let to = utc(2028, 3, 1, 12, 0, 0);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 2);
        let leap_day = utc(2028, 2, 29, 12, 0, 0);
        assert_eq!(calendar_days_between(leap_day, to, chrono_tz::UTC), 1);
    }

    #[test]
    fn auckland_local_date_is_ahead_of_the_utc_date() {
        // 2026-03-16T14:22Z is 03:22 on the 17th in Auckland (UTC+13, NZDT);
        // 2026-03-25T08:00Z is 21:00 on the 25th.
        let from = utc(2026, 3, 16, 14, 22, 0);
        let to = utc(2026, 3, 25, 8, 0, 0);
        assert_eq!(calendar_days_between(from, to, Pacific::Auckland), 8);
    }

    #[test]
    fn los_angeles_local_date_is_behind_the_utc_date() {
        // 2026-03-25T05:00Z is still the 24th in Los Angeles (UTC-7).
        let from = utc(2026, 3, 16, 20, 0, 0);
        let to = utc(2026, 3, 25, 5, 0, 0);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 9);
        assert_eq!(calendar_days_between(from, to, America::Los_Angeles), 8);
    }

    #[test]
    fn a_dst_day_counts_as_one_calendar_day() {
        // Oslo springs forward on 2026-03-29 (that day has 23 hours).
        let from = utc(2026, 3, 28, 23, 30, 0); // 00:30 on the 29th, CET
        let to = utc(2026, 3, 29, 22, 30, 0); // 00:30 on the 30th, CEST
        assert_eq!(calendar_days_between(from, to, Europe::Oslo), 1);
        assert_eq!(calendar_days_between(from, to, chrono_tz::UTC), 1);
        // 22:00Z on the 29th is 00:00 on the 30th in Oslo but not yet in UTC.
        let midnight_oslo = utc(2026, 3, 29, 22, 0, 0);
        assert_eq!(calendar_days_between(from, midnight_oslo, Europe::Oslo), 1);
        let before_midnight_oslo = utc(2026, 3, 29, 21, 59, 59);
        assert_eq!(
            calendar_days_between(from, before_midnight_oslo, Europe::Oslo),
            0
        );
    }

    #[test]
    fn format_instant_is_the_strftime_wire_format_for_every_year() {
        for t in [
            utc(2026, 3, 16, 14, 22, 5),
            utc(1, 1, 1, 0, 0, 0),
            utc(999, 12, 31, 23, 59, 59),
            utc(9999, 12, 31, 23, 59, 59),
            utc(10000, 1, 1, 0, 0, 0),
            utc(-1, 6, 1, 0, 0, 0),
        ] {
            assert_eq!(
                format_instant(t),
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
    }

    #[test]
    fn write_date_is_the_strftime_date_format() {
        for d in [
            utc(2026, 3, 5, 0, 0, 0),
            utc(12, 1, 1, 0, 0, 0),
            utc(12345, 1, 1, 0, 0, 0),
        ] {
            let mut out = String::new();
            write_date(&mut out, d.date_naive()).unwrap();
            assert_eq!(out, d.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn utc_fast_path_agrees_with_chrono_tz() {
        let mut t = utc(2024, 2, 28, 23, 0, 0);
        for _ in 0..100 {
            assert_eq!(
                local_date(t, Tz::UTC),
                t.with_timezone(&Tz::UTC).date_naive()
            );
            t += chrono::TimeDelta::minutes(37);
        }
    }

    #[test]
    fn format_instant_writes_whole_seconds_with_z() {
        let t = utc(2026, 3, 16, 14, 22, 5) + chrono::TimeDelta::milliseconds(987);
        assert_eq!(format_instant(t), "2026-03-16T14:22:05Z");
    }
}
