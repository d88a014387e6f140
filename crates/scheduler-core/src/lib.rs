//! Job scheduling for Mentor Scheduler (docs/scheduling.md), as pure functions.
//!
//! A [`Job`] has a [`JobName`], a [`Handler`] and a [`Schedule`]: a cron
//! expression ([`CronSpec`], parsed by croner: 5 fields, 6 with seconds, or
//! a nickname such as `@daily`) read in an IANA time zone. The schedule
//! answers "when next?" by Vixie cron's DST rules: a fixed-time job fires
//! once at the end of a spring-forward gap that swallowed its time, and
//! only at the first of two occurrences of a repeated time; an interval job
//! (`*/15 * * * *`) skips what a gap swallowed and fires in both passes of a
//! repeated hour. [`plan_firing`] applies the misfire policy after downtime
//! (fire once for the latest instant within the deadline, report the rest
//! as missed, never a burst), [`due_jobs`] picks the jobs to look at, and
//! [`Lease`] is a run's renewable hold on its job.
//!
//! # What this crate refuses to know
//!
//! - **No database.** Jobs live behind the [`JobRepository`] trait;
//!   [`InMemoryJobs`] ships here, `storage-diesel` implements its own.
//! - **No HTTP and no async.** Everything is a plain function; the trait is
//!   dyn-compatible (`Arc<dyn JobRepository>`).
//! - **No clock and no id generator.** "Now" is an argument and job ids
//!   (`job_` plus a ULID) are made by the caller; nothing here calls
//!   `Utc::now()`.
//! - **No handlers' work.** A [`Handler`] is only a name; running it is the
//!   caller's business.
//!
//! # The smallest complete use
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use scheduler_core::{
//!     Handler, InMemoryJobs, Job, JobName, JobRepository, Schedule, plan_firing,
//! };
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).unwrap();
//! let jobs = InMemoryJobs::new();
//! let job = Job::new(
//!     "job_01JQ8Z0000000000000000000".to_owned(),
//!     JobName::parse("certification-expiry-nightly").unwrap(),
//!     Schedule::parse("0 2 * * *", "Europe/Oslo").unwrap(),
//!     Handler::parse("executeExpiryCheck").unwrap(),
//!     now,
//! );
//! // 02:00 in Oslo is 01:00 UTC until summer time starts on 2026-03-29.
//! assert_eq!(job.next_run_at, Some(Utc.with_ymd_and_hms(2026, 3, 27, 1, 0, 0).unwrap()));
//! jobs.insert(&job).unwrap();
//!
//! // The scheduler loop sleeps until the next due job...
//! let wake = jobs.next_wake().unwrap().unwrap();
//! // ...but the process was down for two days, and comes back at 01:30 UTC.
//! let now = wake + TimeDelta::days(2) + TimeDelta::minutes(30);
//! for mut job in jobs.due(now, 50).unwrap() {
//!     let plan = plan_firing(&job, now).unwrap();
//!     // One run now, for the latest instant (within the 1 hour deadline):
//!     // 02:00 does not exist in Oslo on 2026-03-29 (the clock jumps to
//!     // 03:00), so that night's run is due when the gap ends, 01:00 UTC...
//!     assert_eq!(plan.fire_at, Some(Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap()));
//!     // ...and one `missed` record for the two nights before.
//!     let missed = plan.missed.unwrap();
//!     assert_eq!((missed.count, missed.first, missed.last), (2, wake, wake + TimeDelta::days(1)));
//!     job.next_run_at = plan.next_run_at;
//!     jobs.update(&job).unwrap();
//! }
//! // From now on 02:00 in Oslo is 00:00 UTC.
//! assert_eq!(jobs.next_wake().unwrap(), Some(Utc.with_ymd_and_hms(2026, 3, 30, 0, 0, 0).unwrap()));
//! ```
#![warn(missing_docs)]

mod due;
mod job;
mod lease;
mod memory;
mod repo;
mod schedule;
mod service;

pub use due::{FiringPlan, MISSED_COUNT_CAP, Missed, due_jobs, is_due, plan_firing, plan_from};
pub use job::{
    Handler, InvalidJobName, JOB_ID_PREFIX, Job, JobName, MAX_JOB_NAME_LEN, UnknownHandler,
};
pub use lease::{DEFAULT_HEARTBEAT, DEFAULT_LEASE_TTL, DEFAULT_MISFIRE_DEADLINE, Lease};
pub use memory::InMemoryJobs;
pub use repo::{JobRepository, StoreError};
pub use schedule::{
    CronError, CronSpec, MAX_EXPRESSION_LEN, Schedule, ScheduleError, Upcoming, parse_timezone,
};
pub use service::{
    DEFAULT_MAX_JOBS, InvalidParams, JobError, JobPatch, JobService, NewJob, ParamsCheck,
};
