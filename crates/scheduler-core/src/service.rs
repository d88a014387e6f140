//! `JobService`: the rules of the job registry that every view shares
//! (docs/scheduling.md; the views in docs/api.md, "Jobs and runs"): validated
//! creation, updates that recompute `next_run_at`, a handler that never
//! changes.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::job::{Handler, InvalidJobName, Job, JobName, UnknownHandler};
use crate::repo::{JobRepository, StoreError};
use crate::schedule::{CronError, CronSpec, Schedule, ScheduleError, parse_timezone};

/// Why a job operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// No job with this id or name.
    #[error("job `{0}` not found")]
    NotFound(String),
    /// Another job has this name.
    #[error("a job named `{0}` already exists")]
    DuplicateName(String),
    /// The name is not acceptable.
    #[error("name {}", .0.problem)]
    InvalidName(#[from] InvalidJobName),
    /// The cron expression does not parse; carries croner's explanation.
    #[error(transparent)]
    InvalidCron(#[from] CronError),
    /// Not an IANA time zone.
    #[error("unknown time zone `{0}`")]
    UnknownTimezone(String),
    /// No such handler; lists the known ones.
    #[error(transparent)]
    UnknownHandler(#[from] UnknownHandler),
    /// A job's handler is fixed at creation.
    #[error("the handler of a job cannot change (it is `{0}`)")]
    HandlerImmutable(&'static str),
    /// A misfire deadline outside 1 s - 7 days.
    #[error("misfire_deadline_seconds must be between 1 and 604800")]
    InvalidMisfireDeadline,
    /// The job's `params` do not suit its handler ([`ParamsCheck`]).
    #[error(transparent)]
    InvalidParams(#[from] InvalidParams),
    /// As many jobs as the cap allows are registered ([`JobService::with_max_jobs`]).
    #[error("at most {limit} jobs can be registered; delete one to register another")]
    TooManyJobs {
        /// The cap.
        limit: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

/// Why a job's `params` were refused: which one, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct InvalidParams {
    /// The parameter, as `params.<name>`.
    pub field: String,
    /// What is wrong, for example `must be an integer between 1 and 500, got 0`.
    pub problem: String,
}

/// Checks a job's `params` for its handler: the parameters its runs read
/// and their bounds belong to whoever runs the handlers (the service), so
/// [`JobService::with_params_check`] takes them from there.
pub type ParamsCheck =
    fn(Handler, &serde_json::Map<String, serde_json::Value>) -> Result<(), InvalidParams>;

impl From<ScheduleError> for JobError {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::Cron(c) => Self::InvalidCron(c),
            ScheduleError::UnknownTimezone(z) => Self::UnknownTimezone(z),
        }
    }
}

/// A job to register, as it arrives from any view (already typed, not yet validated).
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// 1-128 printable characters.
    pub name: String,
    /// 5 or 6 fields, or a nickname.
    pub cron_expression: String,
    /// IANA zone; `UTC` when `None`.
    pub timezone: Option<String>,
    /// Canonical name or alias.
    pub handler: String,
    /// Default true.
    pub enabled: Option<bool>,
    /// Handler parameters.
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A change to a job; `None` keeps the value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobPatch {
    /// New name.
    pub name: Option<String>,
    /// New expression.
    pub cron_expression: Option<String>,
    /// New zone.
    pub timezone: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// Replacement parameters.
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
    /// Must equal the job's handler (or an alias of it) when given.
    pub handler: Option<String>,
    /// New misfire deadline in seconds.
    pub misfire_deadline_seconds: Option<i64>,
}

/// How many jobs a registry holds at most unless told otherwise
/// ([`JobService::with_max_jobs`]): a bound on what the scheduler loop and
/// the views read, far above any real use.
pub const DEFAULT_MAX_JOBS: u64 = 10_000;

/// The job registry's rules over a [`JobRepository`].
#[derive(Clone)]
pub struct JobService {
    repo: Arc<dyn JobRepository>,
    check_params: Option<ParamsCheck>,
    max_jobs: Option<u64>,
}

fn store(e: StoreError, name: &str) -> JobError {
    match e {
        StoreError::Conflict("jobs.name") => JobError::DuplicateName(name.to_owned()),
        other => JobError::Store(other),
    }
}

impl JobService {
    /// A service over `repo`.
    pub fn new(repo: Arc<dyn JobRepository>) -> Self {
        Self {
            repo,
            check_params: None,
            max_jobs: None,
        }
    }

    /// The same service, refusing to create a job while `max_jobs` are
    /// registered ([`JobError::TooManyJobs`]); updates and deletes are not
    /// affected. Without a cap any number is accepted.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeZone, Utc};
    /// use scheduler_core::{InMemoryJobs, JobError, JobService, NewJob};
    /// let jobs = JobService::new(Arc::new(InMemoryJobs::default())).with_max_jobs(1);
    /// let now = Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).unwrap();
    /// let spec = |name: &str| NewJob {
    ///     name: name.into(),
    ///     cron_expression: "0 6 * * *".into(),
    ///     timezone: None,
    ///     handler: "pause_auto_lift".into(),
    ///     enabled: None,
    ///     params: None,
    /// };
    /// let first = jobs.create(spec("first"), "job_1".into(), now).unwrap();
    /// let err = jobs.create(spec("second"), "job_2".into(), now).unwrap_err();
    /// assert!(matches!(err, JobError::TooManyJobs { limit: 1 }));
    /// jobs.delete(&first.id).unwrap();
    /// assert!(jobs.create(spec("second"), "job_2".into(), now).is_ok());
    /// ```
    #[must_use]
    pub fn with_max_jobs(mut self, max_jobs: u64) -> Self {
        self.max_jobs = Some(max_jobs);
        self
    }

    /// The same service, refusing a job whose `params` `check` refuses, on
    /// create and whenever an update sets them ([`JobError::InvalidParams`]).
    /// Without a check any JSON object is accepted.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeZone, Utc};
    /// use scheduler_core::{Handler, InMemoryJobs, InvalidParams, JobError, JobService, NewJob};
    /// fn check(_: Handler, params: &serde_json::Map<String, serde_json::Value>) -> Result<(), InvalidParams> {
    ///     match params.get("days").and_then(|d| d.as_i64()) {
    ///         Some(d) if d < 1 => Err(InvalidParams {
    ///             field: "params.days".into(),
    ///             problem: format!("must be at least 1, got {d}"),
    ///         }),
    ///         _ => Ok(()),
    ///     }
    /// }
    /// let jobs = JobService::new(Arc::new(InMemoryJobs::default())).with_params_check(check);
    /// let now = Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).unwrap();
    /// let spec = NewJob {
    ///     name: "weekly-expiry-summary-report".into(),
    ///     cron_expression: "0 8 * * 1".into(),
    ///     timezone: None,
    ///     handler: "weekly_expiry_report".into(),
    ///     enabled: None,
    ///     params: serde_json::json!({"days": 0}).as_object().cloned(),
    /// };
    /// let err = jobs.create(spec, "job_1".into(), now).unwrap_err();
    /// assert!(matches!(err, JobError::InvalidParams(_)));
    /// assert_eq!(err.to_string(), "params.days must be at least 1, got 0");
    /// ```
    #[must_use]
    pub fn with_params_check(mut self, check: ParamsCheck) -> Self {
        self.check_params = Some(check);
        self
    }

    fn checked(
        &self,
        handler: Handler,
        params: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), JobError> {
        match self.check_params {
            Some(check) => Ok(check(handler, params)?),
            None => Ok(()),
        }
    }

    /// The repository behind the service.
    pub fn repo(&self) -> &Arc<dyn JobRepository> {
        &self.repo
    }

    /// Validates and registers a job with id `id`; `next_run_at` is computed
    /// from `now` (none when disabled).
    ///
    /// # Errors
    /// [`JobError::InvalidName`], [`JobError::InvalidCron`],
    /// [`JobError::UnknownTimezone`], [`JobError::UnknownHandler`],
    /// [`JobError::InvalidParams`], [`JobError::DuplicateName`],
    /// [`JobError::TooManyJobs`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeZone, Utc};
    /// use scheduler_core::{InMemoryJobs, JobError, JobService, NewJob};
    /// let jobs = JobService::new(Arc::new(InMemoryJobs::default()));
    /// let now = Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).unwrap();
    /// let spec = NewJob {
    ///     name: "weekly-expiry-summary-report".into(),
    ///     cron_expression: "0 8 * * 1".into(),
    ///     timezone: None,
    ///     handler: "generateWeeklyExpiryReport".into(),
    ///     enabled: Some(true),
    ///     params: None,
    /// };
    /// let job = jobs.create(spec.clone(), "job_1".into(), now).unwrap();
    /// assert_eq!(job.handler.as_str(), "weekly_expiry_report");
    /// assert_eq!(job.next_run_at, Some(Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap()));
    /// assert!(matches!(jobs.create(spec, "job_2".into(), now), Err(JobError::DuplicateName(_))));
    /// ```
    pub fn create(&self, spec: NewJob, id: String, now: DateTime<Utc>) -> Result<Job, JobError> {
        let name = JobName::parse(&spec.name)?;
        let handler = Handler::parse(&spec.handler)?;
        let schedule = Schedule::parse(
            &spec.cron_expression,
            spec.timezone.as_deref().unwrap_or("UTC"),
        )?;
        if let Some(params) = &spec.params {
            self.checked(handler, params)?;
        }
        let mut job = Job::new(id, name, schedule, handler, now);
        if let Some(params) = spec.params {
            job.params = params;
        }
        job.set_enabled(spec.enabled.unwrap_or(true), now);
        match self.max_jobs {
            Some(limit) => {
                if !self
                    .repo
                    .insert_capped(&job, limit)
                    .map_err(|e| store(e, &spec.name))?
                {
                    return Err(JobError::TooManyJobs { limit });
                }
            }
            None => self.repo.insert(&job).map_err(|e| store(e, &spec.name))?,
        }
        Ok(job)
    }

    /// Applies a change: a new expression or zone, or enabling, recomputes
    /// `next_run_at` from `now`; disabling clears it.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::HandlerImmutable`], and the
    /// validation errors of [`create`](Self::create).
    pub fn update(&self, id: &str, patch: JobPatch, now: DateTime<Utc>) -> Result<Job, JobError> {
        let mut job = self.get(id)?;
        if let Some(h) = &patch.handler
            && Handler::parse(h)? != job.handler
        {
            return Err(JobError::HandlerImmutable(job.handler.as_str()));
        }
        if let Some(name) = &patch.name {
            job.name = JobName::parse(name)?;
        }
        if patch.cron_expression.is_some() || patch.timezone.is_some() {
            let spec = match &patch.cron_expression {
                Some(expr) => CronSpec::parse(expr)?,
                None => job.schedule.spec.clone(),
            };
            let tz = match &patch.timezone {
                Some(z) => parse_timezone(z)?,
                None => job.schedule.tz,
            };
            job.set_schedule(Schedule::new(spec, tz), now);
        }
        if let Some(params) = patch.params {
            self.checked(job.handler, &params)?;
            job.params = params;
        }
        if let Some(secs) = patch.misfire_deadline_seconds {
            if !(1..=604_800).contains(&secs) {
                return Err(JobError::InvalidMisfireDeadline);
            }
            job.misfire_deadline = TimeDelta::seconds(secs);
        }
        if let Some(enabled) = patch.enabled {
            job.set_enabled(enabled, now);
        }
        job.updated_at = now;
        let name = job.name.as_str().to_owned();
        if !self.repo.update(&job).map_err(|e| store(e, &name))? {
            return Err(JobError::NotFound(id.to_owned()));
        }
        Ok(job)
    }

    /// One job by id.
    ///
    /// # Errors
    /// [`JobError::NotFound`].
    pub fn get(&self, id: &str) -> Result<Job, JobError> {
        // Ids are made here (`job_` + ULID): one that is empty, over 128
        // characters or holds a control character names no job, and never
        // reaches storage (PostgreSQL cannot even compare a NUL).
        if id.is_empty() || id.chars().count() > 128 || id.chars().any(char::is_control) {
            return Err(JobError::NotFound(id.to_owned()));
        }
        self.repo
            .get(id)
            .map_err(JobError::Store)?
            .ok_or_else(|| JobError::NotFound(id.to_owned()))
    }

    /// One job by name.
    ///
    /// # Errors
    /// [`JobError::NotFound`].
    pub fn get_by_name(&self, name: &str) -> Result<Job, JobError> {
        // A name no job can have is not looked up.
        if JobName::parse(name).is_err() {
            return Err(JobError::NotFound(name.to_owned()));
        }
        self.repo
            .get_by_name(name)
            .map_err(JobError::Store)?
            .ok_or_else(|| JobError::NotFound(name.to_owned()))
    }

    /// A page of jobs in creation order, optionally of one handler.
    ///
    /// # Errors
    /// [`JobError::Store`].
    pub fn list(
        &self,
        page: u32,
        limit: u32,
        handler: Option<Handler>,
    ) -> Result<(Vec<Job>, u64), JobError> {
        self.repo
            .list(page, limit, handler)
            .map_err(JobError::Store)
    }

    /// Removes a job; its runs stay.
    ///
    /// # Errors
    /// [`JobError::NotFound`].
    pub fn delete(&self, id: &str) -> Result<Job, JobError> {
        let job = self.get(id)?;
        if self.repo.delete(id).map_err(JobError::Store)? {
            Ok(job)
        } else {
            Err(JobError::NotFound(id.to_owned()))
        }
    }

    /// Records the outcome of a real run (not skipped or missed ones).
    ///
    /// # Errors
    /// [`JobError::Store`]; a job deleted meanwhile is not an error.
    pub fn record_run(
        &self,
        id: &str,
        started: DateTime<Utc>,
        status: &str,
    ) -> Result<(), JobError> {
        self.repo
            .record_last_run(id, started, status)
            .map_err(JobError::Store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::InMemoryJobs;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 26, 10, 0, 0).unwrap()
    }

    fn service() -> JobService {
        JobService::new(Arc::new(InMemoryJobs::default()))
    }

    fn spec(name: &str, expr: &str) -> NewJob {
        NewJob {
            name: name.into(),
            cron_expression: expr.into(),
            timezone: None,
            handler: "executeExpiryCheck".into(),
            enabled: None,
            params: None,
        }
    }

    #[test]
    fn creation_validates_every_field_and_writes_nothing_on_error() {
        let s = service();
        assert!(matches!(
            s.create(spec("", "0 2 * * *"), "job_1".into(), now()),
            Err(JobError::InvalidName(_))
        ));
        assert!(matches!(
            s.create(spec("a", "0 25 * * *"), "job_1".into(), now()),
            Err(JobError::InvalidCron(_))
        ));
        let mut zoned = spec("a", "0 2 * * *");
        zoned.timezone = Some("Mars/Olympus".into());
        assert!(matches!(
            s.create(zoned, "job_1".into(), now()),
            Err(JobError::UnknownTimezone(_))
        ));
        let mut odd = spec("a", "0 2 * * *");
        odd.handler = "sendBirthdayCards".into();
        match s.create(odd, "job_1".into(), now()) {
            Err(JobError::UnknownHandler(u)) => {
                assert!(u.known.contains(&"certification_expiry_check"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.list(1, 20, None).unwrap().1, 0);
    }

    #[test]
    fn a_disabled_job_has_no_next_run_and_enabling_recomputes_it() {
        let s = service();
        let mut off = spec("a", "0 3 * * *");
        off.enabled = Some(false);
        let job = s.create(off, "job_1".into(), now()).unwrap();
        assert_eq!((job.status(), job.next_run_at), ("disabled", None));
        let on = s
            .update(
                "job_1",
                JobPatch {
                    enabled: Some(true),
                    ..JobPatch::default()
                },
                now(),
            )
            .unwrap();
        assert_eq!(
            on.next_run_at,
            Some(Utc.with_ymd_and_hms(2026, 3, 27, 3, 0, 0).unwrap())
        );
        let moved = s
            .update(
                "job_1",
                JobPatch {
                    cron_expression: Some("0 12 * * *".into()),
                    ..JobPatch::default()
                },
                now(),
            )
            .unwrap();
        assert_eq!(
            moved.next_run_at,
            Some(Utc.with_ymd_and_hms(2026, 3, 26, 12, 0, 0).unwrap())
        );
        let zoned = s
            .update(
                "job_1",
                JobPatch {
                    timezone: Some("Europe/Oslo".into()),
                    ..JobPatch::default()
                },
                now(),
            )
            .unwrap();
        assert_eq!(
            zoned.next_run_at,
            Some(Utc.with_ymd_and_hms(2026, 3, 26, 11, 0, 0).unwrap())
        );
        let off = s
            .update(
                "job_1",
                JobPatch {
                    enabled: Some(false),
                    ..JobPatch::default()
                },
                now(),
            )
            .unwrap();
        assert_eq!(off.next_run_at, None);
    }

    #[test]
    fn the_handler_cannot_change_but_naming_the_same_one_is_fine() {
        let s = service();
        s.create(spec("a", "0 2 * * *"), "job_1".into(), now())
            .unwrap();
        let same = JobPatch {
            handler: Some("certification_expiry_check".into()),
            ..JobPatch::default()
        };
        assert!(s.update("job_1", same, now()).is_ok());
        let other = JobPatch {
            handler: Some("pause_auto_lift".into()),
            ..JobPatch::default()
        };
        assert!(matches!(
            s.update("job_1", other, now()),
            Err(JobError::HandlerImmutable(_))
        ));
    }

    #[test]
    fn renaming_onto_a_taken_name_is_a_duplicate_and_unknown_ids_are_not_found() {
        let s = service();
        s.create(spec("a", "0 2 * * *"), "job_1".into(), now())
            .unwrap();
        s.create(spec("b", "0 2 * * *"), "job_2".into(), now())
            .unwrap();
        let rename = JobPatch {
            name: Some("b".into()),
            ..JobPatch::default()
        };
        assert!(matches!(
            s.update("job_1", rename, now()),
            Err(JobError::DuplicateName(_))
        ));
        assert!(matches!(
            s.update("job_x", JobPatch::default(), now()),
            Err(JobError::NotFound(_))
        ));
        assert!(matches!(s.delete("job_x"), Err(JobError::NotFound(_))));
        assert_eq!(s.delete("job_2").unwrap().name.as_str(), "b");
        assert!(matches!(s.get_by_name("b"), Err(JobError::NotFound(_))));
    }

    #[test]
    fn keys_no_job_can_have_are_not_found_without_asking_storage() {
        let s = service();
        for id in ["", "job_\u{0}", &"x".repeat(129)] {
            assert!(matches!(s.get(id), Err(JobError::NotFound(_))), "{id:?}");
            assert!(
                matches!(s.get_by_name(id), Err(JobError::NotFound(_))),
                "{id:?}"
            );
        }
    }

    #[test]
    fn a_real_run_is_recorded_on_its_job() {
        let s = service();
        s.create(spec("a", "0 2 * * *"), "job_1".into(), now())
            .unwrap();
        s.record_run("job_1", now(), "success").unwrap();
        let job = s.get("job_1").unwrap();
        assert_eq!(
            (job.last_run_at, job.last_run_status.as_deref()),
            (Some(now()), Some("success"))
        );
        s.record_run("job_gone", now(), "success").unwrap();
    }
}
