//! The job registry as its views read and change it.
//!
//! Three views name jobs three ways ([`JobKey`]): by name, by id, and by id
//! among the certification expiry checks only. Everything a view shows
//! beyond the job itself (its last finished run, who holds its lock, the
//! upcoming instants) is composed here, so that an HTTP handler only
//! parses, calls one method, and maps the answer.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use run_log::{Run, RunFilter};
use scenario_engine::service::{PageRequest, Paged};
use scheduler_core::{Handler, Job, JobError, JobPatch, NewJob};

use crate::claim::{TriggerRequest, lock_key};
use crate::error::RuntimeError;
use crate::runtime::Runtime;

/// How many instants a job's detail shows in `upcoming`.
pub const UPCOMING: usize = 5;

/// How a view names a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKey {
    /// By its exact name.
    Name(String),
    /// By id, any job.
    Id(String),
    /// By id, among the `certification_expiry_check` jobs only: a job of
    /// another handler is not found.
    CertificationId(String),
}

/// A job with what its detail shows beside it.
#[derive(Debug, Clone)]
pub struct JobDetail {
    /// The job.
    pub job: Job,
    /// The newest finished real run (not skipped, missed or still running).
    pub last_run: Option<Run>,
    /// Whether a running run holds the job's lock (for scenario-evaluation
    /// jobs, the lock they all share).
    pub lock_acquired: bool,
    /// The next [`UPCOMING`] instants; empty when disabled.
    pub upcoming: Vec<DateTime<Utc>>,
}

impl Runtime {
    /// The job `key` names.
    ///
    /// # Errors
    /// [`JobError::NotFound`], also for a job of another handler under
    /// [`JobKey::CertificationId`], and for a key no job can have (a control
    /// character, which PostgreSQL cannot even compare, or too long).
    pub fn resolve(&self, key: &JobKey) -> Result<Job, JobError> {
        // Keys no job can have are refused by JobService itself.
        match key {
            JobKey::Name(name) => self.jobs.get_by_name(name),
            JobKey::Id(id) => self.jobs.get(id),
            JobKey::CertificationId(id) => match self.jobs.get(id)? {
                job if job.handler == Handler::CertificationExpiryCheck => Ok(job),
                _ => Err(JobError::NotFound(id.clone())),
            },
        }
    }

    /// A page of jobs, optionally of one handler, in registration order.
    ///
    /// # Errors
    /// [`RuntimeError::Job`] when storage fails.
    pub fn list_jobs(
        &self,
        handler: Option<Handler>,
        page: PageRequest,
    ) -> Result<Paged<Job>, RuntimeError> {
        let (rows, total) = self.jobs.list(page.page, page.limit, handler)?;
        Ok(Paged { rows, total })
    }

    /// The newest finished real run of a job: `success`, `failed` or
    /// `cancelled`, the runs that set `last_run_at` and `last_run_status`.
    ///
    /// # Errors
    /// [`RuntimeError::Runs`].
    pub fn last_finished_run(&self, job_id: &str) -> Result<Option<Run>, RuntimeError> {
        Ok(self.runs.last_finished_run(job_id)?)
    }

    /// One job with its last finished run, lock state and upcoming
    /// instants. The job's `last_run_at` and `last_run_status` are those of
    /// that run when the run log has it, so that a detail agrees with its
    /// own last result even in the moment between a run finishing and the
    /// runtime recording it on the job.
    ///
    /// # Errors
    /// [`JobError::NotFound`].
    pub fn job_detail(&self, key: &JobKey) -> Result<JobDetail, RuntimeError> {
        let mut job = self.resolve(key)?;
        let last_run = self.last_finished_run(&job.id)?;
        if let Some(run) = &last_run {
            job.last_run_at = Some(run.invoked_at);
            job.last_run_status = Some(run.status.as_str().to_owned());
        }
        let lock_acquired = self.runs.running_with_lock(&lock_key(&job))?.is_some();
        let upcoming = job.upcoming(self.now(), UPCOMING);
        Ok(JobDetail {
            job,
            last_run,
            lock_acquired,
            upcoming,
        })
    }

    /// Registers a job and wakes the scheduler loop.
    ///
    /// # Errors
    /// The validation errors of [`JobService::create`](scheduler_core::JobService::create).
    pub fn create_job(&self, spec: NewJob) -> Result<Job, RuntimeError> {
        let job = self.jobs.create(spec, self.next_id("job"), self.now())?;
        self.jobs_changed();
        Ok(job)
    }

    /// Changes the job `key` names and wakes the scheduler loop.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::HandlerImmutable`] and the
    /// validation errors of creation.
    pub fn update_job(&self, key: &JobKey, patch: JobPatch) -> Result<Job, RuntimeError> {
        let job = self.resolve(key)?;
        let job = self.jobs.update(&job.id, patch, self.now())?;
        self.jobs_changed();
        Ok(job)
    }

    /// Deletes the job `key` names and cancels its running run; the run
    /// history stays. Returns the job and when it was deleted.
    ///
    /// # Errors
    /// [`JobError::NotFound`].
    pub fn delete_job(&self, key: &JobKey) -> Result<(Job, DateTime<Utc>), RuntimeError> {
        let job = self.resolve(key)?;
        let job = self.jobs.delete(&job.id)?;
        let running = self.runs.running_with_lock(&lock_key(&job))?;
        if let Some(run) = running.filter(|r| r.job_id.as_deref() == Some(job.id.as_str())) {
            let _ = self.cancel_run(&run.id);
        }
        self.jobs_changed();
        Ok((job, self.now()))
    }

    /// Starts a manual run of the job `key` names (disabled jobs included).
    ///
    /// # Errors
    /// [`JobError::NotFound`]; [`RuntimeError::LockHeld`] while a run
    /// holds the job's lock.
    pub fn trigger_job(
        self: &Arc<Self>,
        key: &JobKey,
        request: TriggerRequest,
    ) -> Result<(Job, Run), RuntimeError> {
        let job = self.resolve(key)?;
        let run = self.trigger(&job, request)?;
        Ok((job, run))
    }

    /// A page of one job's runs, newest first (skipped and missed ones
    /// included).
    ///
    /// # Errors
    /// [`JobError::NotFound`].
    pub fn job_runs(
        &self,
        key: &JobKey,
        page: PageRequest,
    ) -> Result<(Job, Paged<Run>), RuntimeError> {
        let job = self.resolve(key)?;
        let filter = RunFilter {
            job_id: Some(job.id.clone()),
            ..RunFilter::default()
        };
        let (rows, total) = self.runs.list_runs(&filter, page.offset(), page.limit)?;
        Ok((job, Paged { rows, total }))
    }

    /// The job's newest finished real run (see
    /// [`Runtime::last_finished_run`]).
    ///
    /// # Errors
    /// [`JobError::NotFound`]; [`RuntimeError::NeverRan`] when it has none.
    pub fn last_result(&self, key: &JobKey) -> Result<(Job, Run), RuntimeError> {
        let job = self.resolve(key)?;
        match self.last_finished_run(&job.id)? {
            Some(run) => Ok((job, run)),
            None => Err(RuntimeError::NeverRan(job.name.into_string())),
        }
    }
}
