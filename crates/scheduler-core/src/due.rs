//! Which jobs are due, and what a due job does after downtime
//! (docs/scheduling.md, "Misfires after downtime"): it fires once, for the
//! latest scheduled instant, if that instant is within the job's misfire
//! deadline; every other instant it slept through is reported as missed. Never
//! a burst.

use chrono::{DateTime, TimeDelta, Utc};

use crate::job::Job;
use crate::schedule::Schedule;

/// Missed instants are counted up to this many; past it, [`Missed::capped`]
/// is set and the count is a lower bound.
pub const MISSED_COUNT_CAP: u64 = 100_000;

/// Scheduled instants that will not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missed {
    /// How many (at least this many when `capped`).
    pub count: u64,
    /// The first missed instant.
    pub first: DateTime<Utc>,
    /// The last missed instant.
    pub last: DateTime<Utc>,
    /// Whether counting stopped at [`MISSED_COUNT_CAP`].
    pub capped: bool,
}

/// What to do with a due job now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiringPlan {
    /// The scheduled instant to run now: the latest one at or before `now`,
    /// if it is within the misfire deadline.
    pub fire_at: Option<DateTime<Utc>>,
    /// The other scheduled instants since the stored `next_run_at`, recorded
    /// as one `missed` run.
    pub missed: Option<Missed>,
    /// The job's next scheduled instant after `now`.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Whether `job` should be looked at now: enabled, with `next_run_at` at or
/// before `now`.
pub fn is_due(job: &Job, now: DateTime<Utc>) -> bool {
    job.enabled && job.next_run_at.is_some_and(|at| at <= now)
}

/// The due jobs among `jobs`, oldest `next_run_at` first (then by id), at
/// most `limit` of them.
pub fn due_jobs<'a>(
    jobs: impl IntoIterator<Item = &'a Job>,
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<&'a Job> {
    let mut due: Vec<&Job> = jobs.into_iter().filter(|job| is_due(job, now)).collect();
    due.sort_by(|a, b| (a.next_run_at, &a.id).cmp(&(b.next_run_at, &b.id)));
    due.truncate(limit);
    due
}

/// The misfire policy for a due job; `None` when the job is not due.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use scheduler_core::{Handler, Job, JobName, Schedule, plan_firing};
///
/// // An hourly job whose scheduler was down for three days.
/// let created = Utc.with_ymd_and_hms(2026, 3, 1, 0, 30, 0).unwrap();
/// let job = Job::new(
///     "job_01JQ8Z0000000000000000000".to_owned(),
///     JobName::parse("hourly").unwrap(),
///     Schedule::parse("0 * * * *", "UTC").unwrap(),
///     Handler::PauseAutoLift,
///     created,
/// );
/// let now = created + TimeDelta::days(3);
/// let plan = plan_firing(&job, now).unwrap();
/// assert_eq!(plan.fire_at, Some(Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap()));
/// let missed = plan.missed.unwrap();
/// assert_eq!(missed.count, 71);
/// assert_eq!(missed.first, Utc.with_ymd_and_hms(2026, 3, 1, 1, 0, 0).unwrap());
/// assert_eq!(missed.last, Utc.with_ymd_and_hms(2026, 3, 3, 23, 0, 0).unwrap());
/// assert_eq!(plan.next_run_at, Some(Utc.with_ymd_and_hms(2026, 3, 4, 1, 0, 0).unwrap()));
/// ```
pub fn plan_firing(job: &Job, now: DateTime<Utc>) -> Option<FiringPlan> {
    if !is_due(job, now) {
        return None;
    }
    let first_due = job.next_run_at?;
    Some(plan_from(
        &job.schedule,
        first_due,
        job.misfire_deadline,
        now,
    ))
}

/// The misfire policy from its parts: `first_due` is the stored
/// `next_run_at` (at or before `now`), taken as a scheduled instant even if
/// the schedule no longer produces it.
pub fn plan_from(
    schedule: &Schedule,
    first_due: DateTime<Utc>,
    misfire_deadline: TimeDelta,
    now: DateTime<Utc>,
) -> FiringPlan {
    if first_due > now {
        return FiringPlan {
            fire_at: None,
            missed: None,
            next_run_at: Some(first_due),
        };
    }
    let next_run_at = schedule.next_after(now);

    // Walk the instants in (first_due, now], keeping only the count and the
    // last two: downtime can be long and a job can fire every second.
    let mut count: u64 = 1;
    let mut latest = first_due;
    let mut before_latest = None;
    let mut capped = false;
    for at in schedule.iter_after(first_due) {
        if at > now {
            break;
        }
        if count >= MISSED_COUNT_CAP {
            capped = true;
            break;
        }
        count += 1;
        (before_latest, latest) = (Some(latest), at);
    }
    if capped {
        (before_latest, latest) = tail(schedule, latest, now);
    }

    let deadline = misfire_deadline.max(TimeDelta::zero());
    let (fire_at, missed) = if now - latest <= deadline {
        let missed = before_latest.map(|last| Missed {
            count: count - 1,
            first: first_due,
            last,
            capped,
        });
        (Some(latest), missed)
    } else {
        let missed = Missed {
            count,
            first: first_due,
            last: latest,
            capped,
        };
        (None, Some(missed))
    };
    FiringPlan {
        fire_at,
        missed,
        next_run_at,
    }
}

/// The last two instants in (`from`, `now`] when there are too many to walk:
/// looks back from `now` in windows that double until two are found or the
/// window reaches `from`.
fn tail(
    schedule: &Schedule,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, DateTime<Utc>) {
    let mut window = TimeDelta::minutes(1);
    loop {
        let start = now
            .checked_sub_signed(window)
            .map_or(from, |start| start.max(from));
        let (mut before, mut last) = (None, None);
        for at in schedule.iter_after(start) {
            if at > now {
                break;
            }
            (before, last) = (last, Some(at));
        }
        match (before, last) {
            (Some(before), Some(last)) => return (Some(before), last),
            (None, Some(last)) if start == from => return (Some(from), last),
            (_, None) if start == from => return (None, from),
            _ => window = window * 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{Handler, JobName};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn job(id: &str, expr: &str, created: &str) -> Job {
        Job::new(
            id.to_owned(),
            JobName::parse(id).unwrap(),
            Schedule::parse(expr, "UTC").unwrap(),
            Handler::ScenarioEvaluation,
            at(created),
        )
    }

    #[test]
    fn a_job_on_time_fires_with_nothing_missed() {
        let job = job("job_a", "0 2 * * *", "2026-03-25T12:00:00Z");
        let plan = plan_firing(&job, at("2026-03-26T02:00:00Z")).unwrap();
        assert_eq!(
            plan,
            FiringPlan {
                fire_at: Some(at("2026-03-26T02:00:00Z")),
                missed: None,
                next_run_at: Some(at("2026-03-27T02:00:00Z")),
            }
        );
    }

    #[test]
    fn three_days_of_downtime_fire_the_latest_hour_and_miss_71() {
        let job = job("job_a", "0 * * * *", "2027-01-01T00:30:00Z");
        assert_eq!(job.next_run_at, Some(at("2027-01-01T01:00:00Z")));
        let plan = plan_firing(&job, at("2027-01-04T00:30:00Z")).unwrap();
        assert_eq!(plan.fire_at, Some(at("2027-01-04T00:00:00Z")));
        assert_eq!(
            plan.missed,
            Some(Missed {
                count: 71,
                first: at("2027-01-01T01:00:00Z"),
                last: at("2027-01-03T23:00:00Z"),
                capped: false,
            })
        );
        assert_eq!(plan.next_run_at, Some(at("2027-01-04T01:00:00Z")));
    }

    #[test]
    fn downtime_past_the_deadline_fires_nothing_and_misses_everything() {
        let job = job("job_a", "0 2 * * *", "2026-03-25T12:00:00Z");
        let plan = plan_firing(&job, at("2026-03-28T05:00:00Z")).unwrap();
        assert_eq!(
            plan,
            FiringPlan {
                fire_at: None,
                missed: Some(Missed {
                    count: 3,
                    first: at("2026-03-26T02:00:00Z"),
                    last: at("2026-03-28T02:00:00Z"),
                    capped: false,
                }),
                next_run_at: Some(at("2026-03-29T02:00:00Z")),
            }
        );
    }

    #[test]
    fn the_deadline_is_inclusive() {
        let job = job("job_a", "0 2 * * *", "2026-03-25T12:00:00Z");
        let plan = plan_firing(&job, at("2026-03-26T03:00:00Z")).unwrap();
        assert_eq!(plan.fire_at, Some(at("2026-03-26T02:00:00Z")));
        let plan = plan_firing(&job, at("2026-03-26T03:00:01Z")).unwrap();
        assert_eq!(plan.fire_at, None);
        assert_eq!(plan.missed.map(|m| m.count), Some(1));
    }

    #[test]
    fn a_longer_deadline_still_fires_only_once() {
        let mut job = job("job_a", "*/10 * * * *", "2026-03-26T00:55:00Z");
        job.misfire_deadline = TimeDelta::hours(6);
        let plan = plan_firing(&job, at("2026-03-26T02:05:00Z")).unwrap();
        assert_eq!(plan.fire_at, Some(at("2026-03-26T02:00:00Z")));
        assert_eq!(
            plan.missed.map(|m| (m.count, m.last)),
            Some((6, at("2026-03-26T01:50:00Z")))
        );
    }

    #[test]
    fn a_job_not_yet_due_or_disabled_has_no_plan() {
        let mut job = job("job_a", "0 2 * * *", "2026-03-25T12:00:00Z");
        assert_eq!(plan_firing(&job, at("2026-03-26T01:59:59Z")), None);
        job.enabled = false;
        assert_eq!(plan_firing(&job, at("2026-03-26T02:00:00Z")), None);
    }

    #[test]
    fn counting_missed_instants_stops_at_the_cap_but_finds_the_latest() {
        let job = job("job_a", "* * * * * *", "2026-03-25T23:59:59Z");
        // Two days of a per-second job: 172 800 instants.
        let plan = plan_firing(&job, at("2026-03-28T00:00:00Z")).unwrap();
        assert_eq!(plan.fire_at, Some(at("2026-03-28T00:00:00Z")));
        let missed = plan.missed.unwrap();
        assert!(missed.capped);
        assert_eq!(missed.count, MISSED_COUNT_CAP - 1);
        assert_eq!(missed.first, at("2026-03-26T00:00:00Z"));
        assert_eq!(missed.last, at("2026-03-27T23:59:59Z"));
        assert_eq!(plan.next_run_at, Some(at("2026-03-28T00:00:01Z")));
    }

    #[test]
    fn a_stale_next_run_counts_as_one_scheduled_instant() {
        // The expression changed without recomputing: 01:17 is no longer
        // scheduled but was due.
        let mut job = job("job_a", "0 2 * * *", "2026-03-25T12:00:00Z");
        job.next_run_at = Some(at("2026-03-26T01:17:00Z"));
        let plan = plan_firing(&job, at("2026-03-26T02:10:00Z")).unwrap();
        assert_eq!(plan.fire_at, Some(at("2026-03-26T02:00:00Z")));
        assert_eq!(
            plan.missed,
            Some(Missed {
                count: 1,
                first: at("2026-03-26T01:17:00Z"),
                last: at("2026-03-26T01:17:00Z"),
                capped: false,
            })
        );
    }

    #[test]
    fn due_jobs_are_enabled_and_oldest_first() {
        let a = job("job_a", "0 2 * * *", "2026-03-25T12:00:00Z"); // due 03-26 02:00
        let b = job("job_b", "0 1 * * *", "2026-03-25T12:00:00Z"); // due 03-26 01:00
        let c = job("job_c", "0 1 * * *", "2026-03-25T12:00:00Z"); // same instant as b
        let mut d = job("job_d", "0 0 * * *", "2026-03-25T12:00:00Z");
        d.enabled = false;
        let e = job("job_e", "0 5 * * *", "2026-03-25T12:00:00Z"); // not yet due
        let jobs = [a, b, c, d, e];
        let ids = |due: Vec<&Job>| due.iter().map(|j| j.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(due_jobs(&jobs, at("2026-03-26T03:00:00Z"), 10)),
            ["job_b", "job_c", "job_a"]
        );
        assert_eq!(
            ids(due_jobs(&jobs, at("2026-03-26T03:00:00Z"), 1)),
            ["job_b"]
        );
    }
}
