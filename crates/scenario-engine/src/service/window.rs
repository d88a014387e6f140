//! The delivery window (docs/operations.md): the local hours in which the
//! outbox is delivered. Outside them notifications wait, `pending`.

use std::fmt;

use chrono::{DateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Why a delivery window was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery window `{value}` {problem}; write it as HH:MM-HH:MM, for example 08:00-20:00")]
pub struct InvalidWindow {
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

/// Local wall-clock hours, `start` included and `end` excluded, read in a
/// time zone. A window whose `start` is later than its `end` wraps midnight:
/// `22:00-06:00` is open from 22:00 to midnight and from midnight to 06:00.
///
/// Across DST the window follows the wall clock: an instant is inside when
/// its local time is. So on the night a clock springs forward a window that
/// opens in the skipped hour opens when the clock jumps past it (02:30 in a
/// gap from 02:00 to 03:00 opens at 03:00), and a window lying wholly in the
/// skipped hour does not open that night; on the night a clock falls back a
/// window inside the repeated hour is open in both passes.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::service::DeliveryWindow;
/// let window = DeliveryWindow::parse("08:00-20:00").unwrap();
/// let oslo = chrono_tz::Europe::Oslo;
/// // 06:30 UTC is 07:30 in Oslo (CET): closed until 08:00 local, 07:00 UTC.
/// let early = Utc.with_ymd_and_hms(2026, 3, 25, 6, 30, 0).unwrap();
/// assert!(!window.is_open(early, oslo));
/// assert_eq!(window.next_open(early, oslo), Utc.with_ymd_and_hms(2026, 3, 25, 7, 0, 0).unwrap());
/// // Inside it, delivery is now.
/// let noon = Utc.with_ymd_and_hms(2026, 3, 25, 11, 0, 0).unwrap();
/// assert_eq!(window.next_open(noon, oslo), noon);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryWindow {
    start: NaiveTime,
    end: NaiveTime,
}

fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

impl DeliveryWindow {
    /// Reads `HH:MM-HH:MM` (24-hour clock, surrounding spaces allowed).
    /// `20:00-00:00` is open from 20:00 until midnight.
    ///
    /// # Errors
    /// [`InvalidWindow`] for another shape, an hour past 23 or a minute past
    /// 59, and for an empty window (`start` equal to `end`): to deliver
    /// around the clock, set no window.
    ///
    /// ```
    /// use scenario_engine::service::DeliveryWindow;
    /// assert!(DeliveryWindow::parse("22:00-06:00").is_ok());
    /// assert!(DeliveryWindow::parse("8-20").is_err());
    /// assert!(DeliveryWindow::parse("08:00-24:00").is_err());
    /// assert!(DeliveryWindow::parse("09:00-09:00").is_err());
    /// ```
    pub fn parse(value: &str) -> Result<Self, InvalidWindow> {
        let invalid = |problem| InvalidWindow {
            value: value.to_owned(),
            problem,
        };
        let (start, end) = value
            .trim()
            .split_once('-')
            .ok_or_else(|| invalid("has no `-` between its start and end"))?;
        let start = parse_hhmm(start.trim())
            .ok_or_else(|| invalid("has a start that is not a time from 00:00 to 23:59"))?;
        let end = parse_hhmm(end.trim())
            .ok_or_else(|| invalid("has an end that is not a time from 00:00 to 23:59"))?;
        if start == end {
            return Err(invalid(
                "is empty (start equals end); leave the window unset to deliver around the clock",
            ));
        }
        Ok(Self { start, end })
    }

    /// Whether the window wraps midnight (`start` later than `end`).
    pub fn wraps_midnight(&self) -> bool {
        self.start > self.end
    }

    fn contains(&self, local: NaiveTime) -> bool {
        if self.wraps_midnight() {
            local >= self.start || local < self.end
        } else {
            local >= self.start && local < self.end
        }
    }

    /// Whether `at` falls inside the window, read on the wall clock of `tz`.
    pub fn is_open(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        self.contains(at.with_timezone(&tz).time())
    }

    /// The first instant at or after `now` inside the window: `now` itself
    /// when the window is open, else when it next opens by the wall clock
    /// of `tz`, DST transitions included (see the type's docs).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::service::DeliveryWindow;
    /// let night = DeliveryWindow::parse("22:00-06:00").unwrap();
    /// let evening = Utc.with_ymd_and_hms(2026, 3, 25, 18, 0, 0).unwrap();
    /// assert_eq!(night.next_open(evening, chrono_tz::UTC), Utc.with_ymd_and_hms(2026, 3, 25, 22, 0, 0).unwrap());
    /// let small_hours = Utc.with_ymd_and_hms(2026, 3, 26, 3, 0, 0).unwrap();
    /// assert!(night.is_open(small_hours, chrono_tz::UTC));
    /// ```
    pub fn next_open(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let mut t = now;
        // Each step reaches either the next local `start` (open) or a
        // transition of the zone's offset, which real zones have at most a
        // couple of times a year; 8 steps cover any run of transitions.
        for _ in 0..8 {
            if self.is_open(t, tz) {
                return t;
            }
            let local = t.with_timezone(&tz).time();
            let mut wait = self.start.signed_duration_since(local);
            if wait <= TimeDelta::zero() {
                wait += TimeDelta::days(1);
            }
            let candidate = t + wait;
            match transition_between(t, candidate, tz) {
                // The wall clock jumps on the way: look again from the jump.
                Some(jump) => t = jump,
                None => t = candidate,
            }
        }
        // Unreachable for real zones; a day later is a safe answer.
        now + TimeDelta::days(1)
    }
}

impl fmt::Display for DeliveryWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

fn offset_at(t: DateTime<Utc>, tz: Tz) -> chrono::FixedOffset {
    tz.offset_from_utc_datetime(&t.naive_utc()).fix()
}

/// The first whole second in `(from, to]` whose UTC offset in `tz` differs
/// from the offset at `from`, if the offset changes in between (at most
/// once in a day, as in every real zone).
fn transition_between(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let before = offset_at(from, tz);
    if offset_at(to, tz) == before {
        return None;
    }
    // Invariant: offset(lo) == before, offset(hi) != before.
    let mut lo = from.timestamp();
    let mut hi = to.timestamp() + i64::from(to.timestamp_subsec_nanos() > 0);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let at = DateTime::from_timestamp(mid, 0)?;
        if offset_at(at, tz) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    DateTime::from_timestamp(hi, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Oslo, UTC};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn w(s: &str) -> DeliveryWindow {
        DeliveryWindow::parse(s).unwrap()
    }

    #[test]
    fn parsing_accepts_hh_mm_pairs_and_refuses_everything_else() {
        assert_eq!(w(" 08:00 - 20:00 ").to_string(), "08:00-20:00");
        assert_eq!(w("20:00-00:00").to_string(), "20:00-00:00");
        for bad in [
            "",
            "08:00",
            "8:00-20:00",
            "08:00-20",
            "08:60-20:00",
            "24:00-06:00",
            "08:00-20:00-21:00",
            "aa:bb-cc:dd",
            "+8:00-20:00",
            "00:00-00:00",
        ] {
            let err = DeliveryWindow::parse(bad).unwrap_err();
            assert_eq!(err.value, bad);
            assert!(err.to_string().contains("HH:MM-HH:MM"), "{err}");
        }
    }

    #[test]
    fn the_start_is_inside_and_the_end_is_outside() {
        let day = w("08:00-20:00");
        assert!(!day.is_open(utc(2026, 3, 25, 7, 59), UTC));
        assert!(day.is_open(utc(2026, 3, 25, 8, 0), UTC));
        assert!(day.is_open(utc(2026, 3, 25, 19, 59), UTC));
        assert!(!day.is_open(utc(2026, 3, 25, 20, 0), UTC));
        assert_eq!(
            day.next_open(utc(2026, 3, 25, 20, 0), UTC),
            utc(2026, 3, 26, 8, 0)
        );
        assert_eq!(
            day.next_open(utc(2026, 3, 25, 7, 0), UTC),
            utc(2026, 3, 25, 8, 0)
        );
    }

    #[test]
    fn a_window_wrapping_midnight_is_open_on_both_sides_of_it() {
        let night = w("22:00-06:00");
        assert!(night.wraps_midnight());
        assert!(night.is_open(utc(2026, 3, 25, 23, 30), UTC));
        assert!(night.is_open(utc(2026, 3, 26, 0, 0), UTC));
        assert!(night.is_open(utc(2026, 3, 26, 5, 59), UTC));
        assert!(!night.is_open(utc(2026, 3, 26, 6, 0), UTC));
        assert!(!night.is_open(utc(2026, 3, 26, 21, 59), UTC));
        assert_eq!(
            night.next_open(utc(2026, 3, 26, 6, 0), UTC),
            utc(2026, 3, 26, 22, 0)
        );
        let evening = w("20:00-00:00");
        assert!(evening.is_open(utc(2026, 3, 25, 23, 59), UTC));
        assert!(!evening.is_open(utc(2026, 3, 26, 0, 0), UTC));
    }

    #[test]
    fn the_window_is_read_on_the_local_wall_clock_before_and_after_a_dst_change() {
        let day = w("08:00-20:00");
        // Oslo springs forward on 2026-03-29: 08:00 is 07:00 UTC before, 06:00 UTC after.
        assert_eq!(
            day.next_open(utc(2026, 3, 28, 20, 0), Oslo),
            utc(2026, 3, 29, 6, 0)
        );
        assert_eq!(
            day.next_open(utc(2026, 3, 27, 20, 0), Oslo),
            utc(2026, 3, 28, 7, 0)
        );
        // And falls back on 2026-10-25: 08:00 is 07:00 UTC again.
        assert_eq!(
            day.next_open(utc(2026, 10, 24, 19, 0), Oslo),
            utc(2026, 10, 25, 7, 0)
        );
        assert!(day.is_open(utc(2026, 10, 25, 18, 59), Oslo)); // 19:59 CET
        assert!(!day.is_open(utc(2026, 10, 25, 19, 0), Oslo)); // 20:00 CET
    }

    #[test]
    fn a_window_opening_in_a_skipped_hour_opens_when_the_clock_jumps_past_it() {
        // New York skips 02:00-03:00 on 2027-03-14 (07:00 UTC is 03:00 EDT).
        let w = w("02:30-05:00");
        assert_eq!(
            w.next_open(utc(2027, 3, 14, 5, 0), New_York),
            utc(2027, 3, 14, 7, 0)
        );
        assert!(w.is_open(utc(2027, 3, 14, 7, 0), New_York));
        // The next night it opens at 02:30 EDT again.
        assert_eq!(
            w.next_open(utc(2027, 3, 14, 9, 0), New_York),
            utc(2027, 3, 15, 6, 30)
        );
    }

    #[test]
    fn a_window_lying_wholly_in_a_skipped_hour_does_not_open_that_night() {
        let w = w("02:10-02:50");
        // From the evening before, the next opening is the night after the gap.
        assert_eq!(
            w.next_open(utc(2027, 3, 14, 0, 0), New_York),
            utc(2027, 3, 15, 6, 10)
        );
    }

    #[test]
    fn a_window_inside_a_repeated_hour_is_open_in_both_passes() {
        // Oslo falls back on 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET.
        let w = w("02:15-02:45");
        let first = utc(2026, 10, 25, 0, 15); // 02:15 CEST
        assert_eq!(w.next_open(utc(2026, 10, 24, 20, 0), Oslo), first);
        // Closed at 02:45 CEST, open again at 02:15 CET.
        assert!(!w.is_open(utc(2026, 10, 25, 0, 45), Oslo));
        assert_eq!(
            w.next_open(utc(2026, 10, 25, 0, 45), Oslo),
            utc(2026, 10, 25, 1, 15)
        );
    }

    #[test]
    fn falling_back_into_the_middle_of_a_window_opens_it_at_the_change() {
        // At 03:00 CEST (01:00 UTC) the clock shows 02:00 CET, inside 01:30-02:30.
        let w = w("01:30-02:30");
        assert!(!w.is_open(utc(2026, 10, 25, 0, 40), Oslo)); // 02:40 CEST
        assert_eq!(
            w.next_open(utc(2026, 10, 25, 0, 40), Oslo),
            utc(2026, 10, 25, 1, 0)
        );
    }

    #[test]
    fn a_closed_window_opens_at_its_next_start_from_any_instant_of_the_year() {
        // A brute-force cross-check: from every 197th minute of 2026 in Oslo,
        // `next_open` is open and no 10-minute step before it is.
        let w = w("01:30-02:30");
        let mut t = utc(2026, 1, 1, 0, 0);
        while t < utc(2027, 1, 1, 0, 0) {
            let open = w.next_open(t, Oslo);
            assert!(w.is_open(open, Oslo), "{t}: {open} is closed");
            let mut probe = t;
            while probe < open {
                assert!(
                    !w.is_open(probe, Oslo),
                    "{t}: open at {probe} before {open}"
                );
                probe += TimeDelta::minutes(10);
            }
            t += TimeDelta::minutes(197);
        }
    }
}
