//! Cron expressions in IANA time zones: when does a schedule fire next?
//!
//! [`CronSpec`] is a parsed expression (croner does the parsing and the
//! wall-clock matching); [`Schedule`] pairs it with a time zone and turns
//! matching wall-clock times into instants by the DST rules of
//! docs/scheduling.md, which are Vixie cron's:
//!
//! - **Fixed-time** expressions (the seconds, minute and hour fields do not
//!   start with `*`) fire at every matching wall-clock time at the first
//!   instant the clock shows it or a later time. So a time skipped by a
//!   spring-forward gap fires once, when the gap ends, however many matching
//!   times the gap swallowed; and a time the clock shows twice fires only
//!   the first time.
//! - **Interval** expressions fire at every instant whose wall-clock time
//!   matches: times in a gap never happen, and a repeated hour fires in both
//!   passes.
//!
//! croner applies its own DST rules only to single-value fields (a list such
//! as `30 1,14 * * *` fires twice in a repeated hour), so this module asks
//! croner only for wall-clock matches and applies the rules itself.

mod describe;
mod memo;
mod wall_clock;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use wall_clock::Landing;

/// The longest accepted expression, in characters (after trimming).
pub const MAX_EXPRESSION_LEN: usize = 256;

/// How many candidate wall-clock times one search looks at before giving up.
/// Each step skips a whole DST gap, so a handful always suffices.
const MAX_SEARCH_STEPS: usize = 64;

/// Why a cron expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// croner could not parse it; `reason` is croner's explanation.
    #[error("invalid cron expression {expr:?}: {reason}")]
    Invalid {
        /// The expression, trimmed.
        expr: String,
        /// croner's explanation, for example `Component error: Number out of bounds.`.
        reason: String,
    },
    /// The expression is longer than [`MAX_EXPRESSION_LEN`].
    #[error("cron expression is {len} characters long, at most {max} are allowed")]
    TooLong {
        /// Its length in characters, after trimming.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The expression is valid but matches no date, for example `0 0 30 2 *`.
    #[error("cron expression {expr:?} never fires")]
    NeverFires {
        /// The expression, trimmed.
        expr: String,
    },
}

impl CronError {
    /// The refused expression, when it was short enough to keep.
    pub fn expression(&self) -> Option<&str> {
        match self {
            Self::Invalid { expr, .. } | Self::NeverFires { expr } => Some(expr),
            Self::TooLong { .. } => None,
        }
    }
}

/// Why a schedule (expression plus time zone) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The cron expression is invalid.
    #[error(transparent)]
    Cron(#[from] CronError),
    /// The time zone is not an IANA zone name known to chrono-tz.
    #[error("unknown time zone {0:?}")]
    UnknownTimezone(String),
}

/// A parsed cron expression: 5 fields, or 6 with leading seconds, or a
/// nickname (`@daily`, ...).
///
/// ```
/// use scheduler_core::CronSpec;
/// let spec = CronSpec::parse(" @daily ").unwrap();
/// assert_eq!(spec.as_str(), "@daily");
/// assert_eq!(spec.expanded(), "0 0 * * *");
/// assert_eq!(spec.describe(), "At 00:00 every day");
/// assert!(spec.is_fixed_time());
/// assert!(!CronSpec::parse("*/15 * * * *").unwrap().is_fixed_time());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSpec {
    given: String,
    expanded: String,
    cron: Cron,
    fixed_time: bool,
}

impl CronSpec {
    /// Parses an expression: surrounding whitespace is trimmed, nicknames
    /// (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
    /// `@hourly`) expand to their 5-field form, and croner parses the rest
    /// with optional seconds and no year field.
    ///
    /// # Errors
    /// [`CronError::TooLong`] past [`MAX_EXPRESSION_LEN`] characters,
    /// [`CronError::Invalid`] with croner's explanation when croner refuses
    /// it, [`CronError::NeverFires`] when no date matches (`0 0 30 2 *`).
    ///
    /// ```
    /// use scheduler_core::{CronError, CronSpec};
    /// assert!(CronSpec::parse("0 30 2 * * *").is_ok());
    /// let err = CronSpec::parse("61 * * * *").unwrap_err();
    /// assert_eq!(
    ///     err,
    ///     CronError::Invalid {
    ///         expr: "61 * * * *".into(),
    ///         reason: "Component error: Number out of bounds.".into(),
    ///     }
    /// );
    /// ```
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        static PARSED: memo::Kept<CronSpec> = memo::Kept::new();
        if let Some(spec) = PARSED.get(expr) {
            return Ok(spec);
        }
        let spec = Self::parse_afresh(expr)?;
        PARSED.keep(expr, &spec);
        Ok(spec)
    }

    fn parse_afresh(expr: &str) -> Result<Self, CronError> {
        let given = expr.trim();
        let len = given.chars().count();
        if len > MAX_EXPRESSION_LEN {
            return Err(CronError::TooLong {
                len,
                max: MAX_EXPRESSION_LEN,
            });
        }
        let expanded = expand_nickname(given).unwrap_or(given);
        let invalid = |reason: String| CronError::Invalid {
            expr: given.to_owned(),
            reason,
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .dom_and_dow(vixie_days_and(expanded))
            .build()
            .parse(expanded)
            .map_err(|e| invalid(e.to_string()))?;
        if !ever_fires(&cron) {
            return Err(CronError::NeverFires {
                expr: given.to_owned(),
            });
        }
        let fixed_time = is_fixed_time(expanded);
        Ok(Self {
            given: given.to_owned(),
            expanded: expanded.to_owned(),
            cron,
            fixed_time,
        })
    }

    /// The expression as given (trimmed), for example `@daily`.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The expression with a nickname expanded, for example `0 0 * * *` for
    /// `@daily`; otherwise the same as [`as_str`](Self::as_str).
    pub fn expanded(&self) -> &str {
        &self.expanded
    }

    /// Whether the expression has seconds (6 fields).
    pub fn has_seconds(&self) -> bool {
        self.expanded.split_whitespace().count() == 6
    }

    /// Whether the DST rules for fixed-time jobs apply (docs/scheduling.md,
    /// "Daylight-saving transitions"): the minute and hour fields, and the seconds field when there is one, do
    /// not start with `*`. Lists, ranges and steps such as `0-30/10` count as
    /// fixed-time; `*` and `*/15` make an interval job.
    ///
    /// ```
    /// use scheduler_core::CronSpec;
    /// let fixed = |e: &str| CronSpec::parse(e).unwrap().is_fixed_time();
    /// assert!(fixed("30 1,14 * * *"));
    /// assert!(fixed("0-30/10 2 * * *"));
    /// assert!(!fixed("0 * * * *"));
    /// assert!(!fixed("*/20 30 2 * * *"));
    /// ```
    pub fn is_fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// A human-readable description, for example "At 02:00 every day",
    /// "Every 15 minutes" or "At 08:00 on Monday"; unusual shapes get
    /// croner's English description.
    ///
    /// ```
    /// use scheduler_core::CronSpec;
    /// let describe = |e: &str| CronSpec::parse(e).unwrap().describe();
    /// assert_eq!(describe("0 2 * * *"), "At 02:00 every day");
    /// assert_eq!(describe("*/15 * * * *"), "Every 15 minutes");
    /// assert_eq!(describe("0 8 * * 1"), "At 08:00 on Monday");
    /// assert_eq!(describe("0 12 * * 5#2"), "At 12:00, on the 2nd Friday of the month");
    /// ```
    pub fn describe(&self) -> String {
        let fields: Vec<&str> = self.expanded.split_whitespace().collect();
        describe::describe(&fields).unwrap_or_else(|| {
            let text = self.cron.describe();
            text.trim_end_matches('.').to_owned()
        })
    }

    /// The next matching wall-clock time after `from` (or at it, when
    /// `inclusive`), ignoring time zones.
    fn next_wall_clock(&self, from: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.cron.find_next_occurrence(&from, inclusive).ok()
    }
}

impl fmt::Display for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.given)
    }
}

impl FromStr for CronSpec {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The 5-field form of a nickname, case-insensitively.
fn expand_nickname(expr: &str) -> Option<&'static str> {
    const NICKNAMES: [(&str, &str); 7] = [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ];
    NICKNAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(expr))
        .map(|(_, expanded)| *expanded)
}

/// Fixed-time unless the seconds (when present), minute or hour field
/// starts with `*` (docs/scheduling.md, "Daylight-saving transitions").
fn is_fixed_time(expanded: &str) -> bool {
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let time_fields = if fields.len() == 6 {
        &fields[..3]
    } else {
        &fields[..fields.len().min(2)]
    };
    !time_fields.iter().any(|f| f.starts_with('*'))
}

/// Whether some date matches. Every valid expression repeats within 28
/// years (the calendar's cycle), and croner finds the first match from
/// 2000-01-01 quickly; only an impossible one makes croner search to its
/// year limit, so the common impossible shape (a day of month no chosen
/// month has) is caught first without a search.
/// Vixie cron's rule for the two day fields: when either starts with `*`
/// (`*`, `*/10`), a day must match both; only when both are restricted does
/// either suffice. croner ORs them unless one is exactly `*`, so
/// `0 0 */10 * 1` would fire on every tenth day and every Monday; Vixie cron
/// and crondst fire on Mondays that are a tenth day.
fn vixie_days_and(expanded: &str) -> bool {
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let (dom, dow) = match fields.len() {
        5 => (fields[2], fields[4]),
        6 => (fields[3], fields[5]),
        _ => return false,
    };
    let star = |f: &str| f.starts_with('*') || f.starts_with('?');
    star(dom) || star(dow)
}

fn ever_fires(cron: &Cron) -> bool {
    let pattern = &cron.pattern;
    if pattern.is_dow_wildcard() && !pattern.days.has_modifiers() {
        let longest_month = pattern
            .months
            .values()
            .iter()
            .map(|&m| match m {
                2 => 29,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            })
            .max()
            .unwrap_or(31);
        let first_day = pattern.days.values().first().copied().unwrap_or(1);
        if first_day > longest_month {
            return false;
        }
    }
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .is_some_and(|start| cron.find_next_occurrence(&start, true).is_ok())
}

/// Parses an IANA time zone name (`Europe/Oslo`, `UTC`).
///
/// # Errors
/// [`ScheduleError::UnknownTimezone`] with the name when chrono-tz does not
/// know it.
///
/// ```
/// use scheduler_core::{parse_timezone, ScheduleError};
/// assert_eq!(parse_timezone("Europe/Oslo").unwrap(), chrono_tz::Europe::Oslo);
/// assert_eq!(
///     parse_timezone("Mars/Olympus"),
///     Err(ScheduleError::UnknownTimezone("Mars/Olympus".into()))
/// );
/// ```
pub fn parse_timezone(name: &str) -> Result<Tz, ScheduleError> {
    name.parse::<Tz>()
        .map_err(|_| ScheduleError::UnknownTimezone(name.to_owned()))
}

/// A cron expression in a time zone: the instants a job fires at.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scheduler_core::Schedule;
///
/// // 02:30 does not exist in New York on 2027-03-14: the job fires when the
/// // gap ends, at 03:00 EDT; on the next day it fires at 02:30 again.
/// let schedule = Schedule::parse("30 2,14 * * *", "America/New_York").unwrap();
/// let after = Utc.with_ymd_and_hms(2027, 3, 14, 0, 0, 0).unwrap();
/// assert_eq!(
///     schedule.upcoming(after, 3),
///     vec![
///         Utc.with_ymd_and_hms(2027, 3, 14, 7, 0, 0).unwrap(),
///         Utc.with_ymd_and_hms(2027, 3, 14, 18, 30, 0).unwrap(),
///         Utc.with_ymd_and_hms(2027, 3, 15, 6, 30, 0).unwrap(),
///     ]
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The cron expression.
    pub spec: CronSpec,
    /// The time zone its wall-clock times are read in.
    pub tz: Tz,
}

impl Schedule {
    /// A schedule from parts that are already valid.
    pub fn new(spec: CronSpec, tz: Tz) -> Self {
        Self { spec, tz }
    }

    /// A schedule in UTC.
    pub fn utc(spec: CronSpec) -> Self {
        Self::new(spec, Tz::UTC)
    }

    /// Parses an expression and an IANA time zone name.
    ///
    /// # Errors
    /// [`ScheduleError::Cron`] for an invalid expression (see
    /// [`CronSpec::parse`]), [`ScheduleError::UnknownTimezone`] for a zone
    /// chrono-tz does not know.
    ///
    /// ```
    /// use scheduler_core::{Schedule, ScheduleError};
    /// assert!(Schedule::parse("0 2 * * *", "Europe/Oslo").is_ok());
    /// assert_eq!(
    ///     Schedule::parse("0 2 * * *", "Europe/Osl").unwrap_err(),
    ///     ScheduleError::UnknownTimezone("Europe/Osl".into())
    /// );
    /// ```
    pub fn parse(expr: &str, tz_name: &str) -> Result<Self, ScheduleError> {
        let spec = CronSpec::parse(expr)?;
        let tz = parse_timezone(tz_name)?;
        Ok(Self { spec, tz })
    }

    /// The IANA name of the time zone.
    pub fn timezone_name(&self) -> &'static str {
        self.tz.name()
    }

    /// The first firing instant strictly after `after`, or `None` when there
    /// is none before croner's year limit (5000).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scheduler_core::Schedule;
    ///
    /// // 01:30 happens twice in New York on 2027-11-07; a fixed-time job
    /// // fires only at the first one (EDT), then at 14:30 EST.
    /// let schedule = Schedule::parse("30 1,14 * * *", "America/New_York").unwrap();
    /// let first = Utc.with_ymd_and_hms(2027, 11, 7, 5, 30, 0).unwrap();
    /// assert_eq!(
    ///     schedule.next_after(first),
    ///     Some(Utc.with_ymd_and_hms(2027, 11, 7, 19, 30, 0).unwrap())
    /// );
    /// ```
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.spec.fixed_time {
            self.next_fixed_time(after)
        } else {
            self.next_interval(after)
        }
    }

    /// The next `count` firing instants strictly after `after`, strictly
    /// increasing (fewer if the schedule runs out).
    ///
    /// The answer for up to [`Schedule::KEPT_UPCOMING`] instants is kept
    /// by schedule and count (`schedule/memo.rs`): it stays the answer for
    /// every `after` from the one it was computed for up to its first
    /// instant, so a job's view, read all day, computes its instants again
    /// only once one of them has passed.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scheduler_core::Schedule;
    ///
    /// let nightly = Schedule::parse("0 2 * * *", "Europe/Oslo").unwrap();
    /// let noon = Utc.with_ymd_and_hms(2027, 1, 4, 12, 0, 0).unwrap();
    /// let next = nightly.upcoming(noon, 2);
    /// assert_eq!(next, [
    ///     Utc.with_ymd_and_hms(2027, 1, 5, 1, 0, 0).unwrap(),
    ///     Utc.with_ymd_and_hms(2027, 1, 6, 1, 0, 0).unwrap(),
    /// ]);
    /// // Later, before the first of them: the same instants.
    /// assert_eq!(nightly.upcoming(noon + chrono::TimeDelta::hours(12), 2), next);
    /// // Once it passed, the next ones.
    /// assert_eq!(nightly.upcoming(next[0], 1), [next[1]]);
    /// ```
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        static KEPT: memo::Kept<(DateTime<Utc>, Vec<DateTime<Utc>>)> = memo::Kept::new();
        if count > Self::KEPT_UPCOMING {
            return self.iter_after(after).take(count).collect();
        }
        let key = format!("{count} {} {}", self.tz.name(), self.spec.expanded);
        if let Some((from, instants)) = KEPT.get(&key)
            && from <= after
            && instants.first().is_none_or(|first| after < *first)
        {
            return instants;
        }
        let instants: Vec<_> = self.iter_after(after).take(count).collect();
        KEPT.keep(&key, &(after, instants.clone()));
        instants
    }

    /// The most instants of an [`upcoming`](Schedule::upcoming) answer
    /// that is kept.
    pub const KEPT_UPCOMING: usize = 10;

    /// The firing instants strictly after `after`, in order, without end.
    pub fn iter_after(&self, after: DateTime<Utc>) -> Upcoming<'_> {
        Upcoming {
            schedule: self,
            cursor: Some(after),
        }
    }

    /// Fixed-time rule: each matching wall-clock time fires at the first
    /// instant the clock shows it or a later time. That instant grows with
    /// the wall-clock time, so the answer is the first matching time the
    /// clock has not yet reached by `after`.
    fn next_fixed_time(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let now_local = wall_clock::local(self.tz, after);
        // In the second pass of a repeated range, the clock already showed
        // every time up to the end of the range during the first pass.
        let (mut from, mut inclusive) = match self.tz.from_local_datetime(&now_local) {
            LocalResult::Ambiguous(a, b) if a.max(b).with_timezone(&Utc) == after => {
                let overlap = wall_clock::overlap(
                    self.tz,
                    a.min(b).with_timezone(&Utc),
                    a.max(b).with_timezone(&Utc),
                );
                (overlap.end, true)
            }
            _ => (now_local, false),
        };
        for _ in 0..MAX_SEARCH_STEPS {
            let time = self.spec.next_wall_clock(from, inclusive)?;
            let at = match wall_clock::land(self.tz, time) {
                Some(Landing::Single(at) | Landing::Twice { first: at, .. }) => Some(at),
                Some(Landing::Gap { ends, .. }) => Some(ends),
                None => None,
            };
            match at {
                Some(at) if at > after => return Some(at),
                _ => (from, inclusive) = (time, false),
            }
        }
        None
    }

    /// Interval rule: every instant whose wall-clock time matches, in
    /// elapsed-time order. Times in a gap never happen; a repeated range is
    /// walked twice.
    fn next_interval(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let now_local = wall_clock::local(self.tz, after);
        // In the first pass of a repeated range, the second pass is still to
        // come: its first match competes with whatever follows in the first
        // pass (which, being before the clock goes back, wins if it exists).
        let mut second_pass = None;
        if let LocalResult::Ambiguous(a, b) = self.tz.from_local_datetime(&now_local) {
            let (first, second) = (a.min(b).with_timezone(&Utc), a.max(b).with_timezone(&Utc));
            if first == after {
                let overlap = wall_clock::overlap(self.tz, first, second);
                second_pass = self
                    .spec
                    .next_wall_clock(overlap.start, true)
                    .filter(|time| *time < overlap.end)
                    .and_then(|time| match wall_clock::land(self.tz, time) {
                        Some(Landing::Twice { second, .. }) => Some(second),
                        _ => None,
                    });
            }
        }
        let (mut from, mut inclusive) = (now_local, false);
        for _ in 0..MAX_SEARCH_STEPS {
            let Some(time) = self.spec.next_wall_clock(from, inclusive) else {
                return second_pass;
            };
            let at = match wall_clock::land(self.tz, time) {
                Some(Landing::Single(at)) => at,
                Some(Landing::Twice { first, second }) => {
                    if first > after {
                        first
                    } else {
                        second
                    }
                }
                Some(Landing::Gap { resumes, .. }) => {
                    (from, inclusive) = (resumes, true);
                    continue;
                }
                None => {
                    (from, inclusive) = (time, false);
                    continue;
                }
            };
            return Some(second_pass.map_or(at, |s: DateTime<Utc>| s.min(at)));
        }
        second_pass
    }
}

/// The firing instants of a [`Schedule`] after a starting instant; see
/// [`Schedule::iter_after`].
#[derive(Debug, Clone)]
pub struct Upcoming<'a> {
    schedule: &'a Schedule,
    cursor: Option<DateTime<Utc>>,
}

impl Iterator for Upcoming<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.schedule.next_after(self.cursor?);
        self.cursor = next;
        next
    }
}

impl std::iter::FusedIterator for Upcoming<'_> {}

#[cfg(test)]
mod tests;
