//! Wall-clock times of a time zone and the instants they land on.
//!
//! chrono-tz answers "which instants show this wall-clock time?" with one
//! instant, two (a repeated hour) or none (a skipped hour). The DST rules of
//! docs/scheduling.md also need to know where such a gap ends and where a
//! repeated range starts and ends; chrono-tz does not expose its
//! transitions, so they are found here from offsets alone.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Where one wall-clock time lands on the time line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Landing {
    /// The time exists once.
    Single(DateTime<Utc>),
    /// The time exists twice: the clock went back over it.
    Twice {
        /// Its first occurrence (before the clock went back).
        first: DateTime<Utc>,
        /// Its second occurrence.
        second: DateTime<Utc>,
    },
    /// The time does not exist: the clock jumped over it.
    Gap {
        /// The instant the gap ends, when the clock shows `resumes`.
        ends: DateTime<Utc>,
        /// The first wall-clock time after the gap.
        resumes: NaiveDateTime,
    },
}

/// A range of wall-clock times that the clock shows twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overlap {
    /// The first repeated wall-clock time.
    pub(crate) start: NaiveDateTime,
    /// The first wall-clock time after the repeated range (exclusive end).
    pub(crate) end: NaiveDateTime,
}

/// Gaps longer than this are not searched for their end. The longest gap in
/// the tz database is a whole day (Pacific/Apia skipped 2011-12-30).
const MAX_GAP_MINUTES: i64 = 2 * 24 * 60;

/// The wall-clock time of `at` in `tz`.
pub(crate) fn local(tz: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// Where `time` lands in `tz`; `None` only for a gap whose end could not be
/// found, which no real time zone has.
pub(crate) fn land(tz: Tz, time: NaiveDateTime) -> Option<Landing> {
    match tz.from_local_datetime(&time) {
        LocalResult::Single(at) => Some(Landing::Single(at.with_timezone(&Utc))),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            Some(Landing::Twice {
                first: a.min(b),
                second: a.max(b),
            })
        }
        LocalResult::None => gap_end(tz, time),
    }
}

/// The end of the gap that swallowed `time`: the first wall-clock time after
/// it that exists, and the instant it shows.
fn gap_end(tz: Tz, time: NaiveDateTime) -> Option<Landing> {
    // Walk by minutes to the first time that exists, then back by seconds to
    // the exact end (every transition in the tz database is on a whole
    // second, and all recent ones are on a whole minute).
    let whole_minute = time
        .date()
        .and_hms_opt(time.hour(), time.minute(), 0)
        .unwrap_or(time);
    let mut resumes = None;
    for minutes in 1..=MAX_GAP_MINUTES {
        let candidate = whole_minute + TimeDelta::minutes(minutes);
        if let Some(at) = first_instant(tz, candidate) {
            resumes = Some((candidate, at));
            break;
        }
    }
    let (mut resumes, mut ends) = resumes?;
    for _ in 0..60 {
        let earlier = resumes - TimeDelta::seconds(1);
        if earlier <= time {
            break;
        }
        match first_instant(tz, earlier) {
            Some(at) => (resumes, ends) = (earlier, at),
            None => break,
        }
    }
    Some(Landing::Gap { ends, resumes })
}

/// The first instant showing `time`, if it exists.
fn first_instant(tz: Tz, time: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&time) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// The repeated range holding a wall-clock time whose two occurrences are
/// `first` and `second`.
pub(crate) fn overlap(tz: Tz, first: DateTime<Utc>, second: DateTime<Utc>) -> Overlap {
    // The offset changes once between the two occurrences; find the instant
    // it changes by bisection on whole seconds. `first` is before the
    // change, `second` at or after it.
    let before = offset_seconds(tz, first.timestamp());
    let (mut lo, mut hi) = (first.timestamp(), second.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_seconds(tz, mid) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let change = DateTime::from_timestamp(hi, 0).unwrap_or(second);
    Overlap {
        start: local(tz, change),
        end: change.naive_utc() + TimeDelta::seconds(i64::from(before)),
    }
}

/// The UTC offset of `tz` at a Unix timestamp, in seconds.
fn offset_seconds(tz: Tz, timestamp: i64) -> i32 {
    DateTime::from_timestamp(timestamp, 0).map_or(0, |at| {
        tz.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_time_in_the_spring_gap_lands_on_the_end_of_the_gap() {
        let landing = land(chrono_tz::America::New_York, naive(2027, 3, 14, 2, 30, 15));
        assert_eq!(
            landing,
            Some(Landing::Gap {
                ends: utc("2027-03-14T07:00:00Z"),
                resumes: naive(2027, 3, 14, 3, 0, 0),
            })
        );
    }

    #[test]
    fn a_time_at_the_start_of_a_gap_lands_on_its_end() {
        let landing = land(chrono_tz::America::Santiago, naive(2027, 9, 5, 0, 0, 0));
        assert_eq!(
            landing,
            Some(Landing::Gap {
                ends: utc("2027-09-05T04:00:00Z"),
                resumes: naive(2027, 9, 5, 1, 0, 0),
            })
        );
    }

    #[test]
    fn a_half_hour_gap_ends_on_the_half_hour() {
        let landing = land(
            chrono_tz::Australia::Lord_Howe,
            naive(2027, 10, 3, 2, 10, 0),
        );
        assert_eq!(
            landing,
            Some(Landing::Gap {
                ends: utc("2027-10-02T15:30:00Z"),
                resumes: naive(2027, 10, 3, 2, 30, 0),
            })
        );
    }

    #[test]
    fn a_repeated_time_lands_twice_an_hour_apart() {
        let landing = land(chrono_tz::Europe::Oslo, naive(2027, 10, 31, 2, 30, 0));
        assert_eq!(
            landing,
            Some(Landing::Twice {
                first: utc("2027-10-31T00:30:00Z"),
                second: utc("2027-10-31T01:30:00Z"),
            })
        );
    }

    #[test]
    fn the_overlap_bounds_are_the_repeated_hour() {
        let tz = chrono_tz::America::New_York;
        let found = overlap(tz, utc("2027-11-07T05:20:00Z"), utc("2027-11-07T06:20:00Z"));
        assert_eq!(
            found,
            Overlap {
                start: naive(2027, 11, 7, 1, 0, 0),
                end: naive(2027, 11, 7, 2, 0, 0),
            }
        );
    }
}
