//! The default jobs, registered once per database.

use scheduler_core::{Handler, Job, JobError, JobName, Schedule};

use crate::error::RuntimeError;
use crate::runtime::Runtime;

/// The marker row written with the default jobs: a default job a user
/// deleted stays deleted, and instances starting together register them once.
pub const DEFAULT_JOBS_MARKER: &str = "default_jobs_seeded";

/// The default jobs: name, expression (UTC), handler.
pub const DEFAULT_JOBS: [(&str, &str, Handler); 4] = [
    (
        "certification-expiry-nightly",
        "0 2 * * *",
        Handler::CertificationExpiryCheck,
    ),
    ("pause-auto-lift-check", "0 6 * * *", Handler::PauseAutoLift),
    ("run-log-retention", "0 3 * * *", Handler::RunLogRetention),
    (
        "daily-reminder-check",
        "0 8 * * *",
        Handler::ScenarioEvaluation,
    ),
];

impl Runtime {
    /// Registers the default jobs once (a marker row in the same transaction).
    ///
    /// # Errors
    /// [`RuntimeError::Job`] when storage fails.
    pub fn seed_default_jobs(&self) -> Result<bool, RuntimeError> {
        let now = self.now();
        let mut jobs = Vec::with_capacity(DEFAULT_JOBS.len());
        for (name, expr, handler) in DEFAULT_JOBS {
            let name = JobName::parse(name).map_err(JobError::from)?;
            let schedule = Schedule::parse(expr, "UTC").map_err(JobError::from)?;
            jobs.push(Job::new(self.next_id("job"), name, schedule, handler, now));
        }
        self.jobs
            .repo()
            .seed_once(DEFAULT_JOBS_MARKER, &jobs, now)
            .map_err(|e| RuntimeError::Job(JobError::Store(e)))
    }
}
