//! An in-memory [`JobRepository`], for tests and embedders.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use chrono::{DateTime, Utc};

use crate::due::due_jobs;
use crate::job::{Handler, Job};
use crate::repo::{JobRepository, StoreError};

/// Jobs in a map behind a lock.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scheduler_core::{Handler, InMemoryJobs, Job, JobName, JobRepository, Schedule, StoreError};
///
/// let now = Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).unwrap();
/// let job = Job::new(
///     "job_01JQ8Z0000000000000000000".to_owned(),
///     JobName::parse("pause-auto-lift-check").unwrap(),
///     Schedule::parse("0 6 * * *", "UTC").unwrap(),
///     Handler::PauseAutoLift,
///     now,
/// );
/// let jobs = InMemoryJobs::new();
/// jobs.insert(&job).unwrap();
/// let again = Job { id: "job_01JQ8Z0000000000000000001".to_owned(), ..job.clone() };
/// assert!(matches!(jobs.insert(&again), Err(StoreError::Conflict("jobs.name"))));
/// assert_eq!(jobs.next_wake().unwrap(), job.next_run_at);
/// ```
#[derive(Debug, Default)]
pub struct InMemoryJobs {
    jobs: RwLock<BTreeMap<String, Job>>,
    markers: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl InMemoryJobs {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Job>> {
        self.jobs.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Job>> {
        self.jobs.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl JobRepository for InMemoryJobs {
    fn insert(&self, job: &Job) -> Result<(), StoreError> {
        let mut jobs = self.write();
        if jobs.contains_key(&job.id) {
            return Err(StoreError::Conflict("jobs.id"));
        }
        if jobs.values().any(|other| other.name == job.name) {
            return Err(StoreError::Conflict("jobs.name"));
        }
        jobs.insert(job.id.clone(), job.clone());
        Ok(())
    }

    fn insert_capped(&self, job: &Job, max_jobs: u64) -> Result<bool, StoreError> {
        let mut jobs = self.write();
        if jobs.len() as u64 >= max_jobs {
            return Ok(false);
        }
        if jobs.contains_key(&job.id) {
            return Err(StoreError::Conflict("jobs.id"));
        }
        if jobs.values().any(|other| other.name == job.name) {
            return Err(StoreError::Conflict("jobs.name"));
        }
        jobs.insert(job.id.clone(), job.clone());
        Ok(true)
    }

    fn get(&self, id: &str) -> Result<Option<Job>, StoreError> {
        Ok(self.read().get(id).cloned())
    }

    fn get_by_name(&self, name: &str) -> Result<Option<Job>, StoreError> {
        Ok(self
            .read()
            .values()
            .find(|job| job.name.as_str() == name)
            .cloned())
    }

    fn list(
        &self,
        page: u32,
        limit: u32,
        handler: Option<Handler>,
    ) -> Result<(Vec<Job>, u64), StoreError> {
        let jobs = self.read();
        let mut matching: Vec<&Job> = jobs
            .values()
            .filter(|job| handler.is_none_or(|h| job.handler == h))
            .collect();
        matching.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let total = matching.len() as u64;
        let skip = (page.max(1) as usize - 1).saturating_mul(limit as usize);
        let rows = matching
            .into_iter()
            .skip(skip)
            .take(limit as usize)
            .cloned()
            .collect();
        Ok((rows, total))
    }

    fn update(&self, job: &Job) -> Result<bool, StoreError> {
        let mut jobs = self.write();
        if !jobs.contains_key(&job.id) {
            return Ok(false);
        }
        if jobs
            .values()
            .any(|other| other.id != job.id && other.name == job.name)
        {
            return Err(StoreError::Conflict("jobs.name"));
        }
        let mut stored = job.clone();
        if let Some(previous) = jobs.get(&job.id) {
            stored.last_run_at = previous.last_run_at;
            stored.last_run_status.clone_from(&previous.last_run_status);
        }
        jobs.insert(job.id.clone(), stored);
        Ok(true)
    }

    fn delete(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.write().remove(id).is_some())
    }

    fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError> {
        let jobs = self.read();
        Ok(due_jobs(jobs.values(), now, limit)
            .into_iter()
            .cloned()
            .collect())
    }

    fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .read()
            .values()
            .filter(|job| job.enabled)
            .filter_map(|job| job.next_run_at)
            .min())
    }

    fn seed_once(
        &self,
        marker: &str,
        jobs: &[Job],
        _now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut markers = self.markers.lock().unwrap_or_else(PoisonError::into_inner);
        if !markers.insert(marker.to_owned()) {
            return Ok(false);
        }
        for job in jobs {
            match self.insert(job) {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn set_next_run(
        &self,
        id: &str,
        expected: Option<DateTime<Utc>>,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut jobs = self.write();
        match jobs.get_mut(id) {
            Some(job) if job.next_run_at == expected => {
                job.next_run_at = next;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn record_last_run(
        &self,
        id: &str,
        started: DateTime<Utc>,
        status: &str,
    ) -> Result<bool, StoreError> {
        let mut jobs = self.write();
        match jobs.get_mut(id) {
            Some(job) => {
                job.last_run_at = Some(started);
                job.last_run_status = Some(status.to_owned());
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::job::JobName;
    use crate::schedule::Schedule;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn job(id: &str, name: &str, expr: &str, handler: Handler, created: &str) -> Job {
        Job::new(
            id.to_owned(),
            JobName::parse(name).unwrap(),
            Schedule::parse(expr, "UTC").unwrap(),
            handler,
            at(created),
        )
    }

    fn seeded() -> InMemoryJobs {
        let jobs = InMemoryJobs::new();
        let seed = [
            job(
                "job_c",
                "certification-expiry-nightly",
                "0 2 * * *",
                Handler::CertificationExpiryCheck,
                "2026-03-26T09:00:00Z",
            ),
            job(
                "job_a",
                "pause-auto-lift-check",
                "0 6 * * *",
                Handler::PauseAutoLift,
                "2026-03-26T09:00:00Z",
            ),
            job(
                "job_b",
                "daily-reminder-check",
                "0 8 * * *",
                Handler::ScenarioEvaluation,
                "2026-03-25T09:00:00Z",
            ),
            job(
                "job_d",
                "second-expiry-check",
                "30 2 * * *",
                Handler::CertificationExpiryCheck,
                "2026-03-27T09:00:00Z",
            ),
        ];
        for job in &seed {
            jobs.insert(job).unwrap();
        }
        jobs
    }

    fn ids(jobs: &[Job]) -> Vec<&str> {
        jobs.iter().map(|j| j.id.as_str()).collect()
    }

    #[test]
    fn the_repository_is_usable_as_a_shared_trait_object() {
        let repo: Arc<dyn JobRepository> = Arc::new(seeded());
        assert_eq!(repo.list(1, 10, None).unwrap().1, 4);
    }

    #[test]
    fn inserting_a_duplicate_name_is_a_conflict_on_jobs_name() {
        let jobs = seeded();
        let dup = job(
            "job_z",
            "pause-auto-lift-check",
            "0 7 * * *",
            Handler::PauseAutoLift,
            "2026-03-28T00:00:00Z",
        );
        assert!(matches!(
            jobs.insert(&dup),
            Err(StoreError::Conflict("jobs.name"))
        ));
        let same_id = job(
            "job_a",
            "another",
            "0 7 * * *",
            Handler::PauseAutoLift,
            "2026-03-28T00:00:00Z",
        );
        assert!(matches!(
            jobs.insert(&same_id),
            Err(StoreError::Conflict("jobs.id"))
        ));
        assert_eq!(jobs.list(1, 10, None).unwrap().1, 4);
    }

    #[test]
    fn names_are_compared_exactly() {
        let jobs = seeded();
        let other_case = job(
            "job_z",
            "Pause-Auto-Lift-Check",
            "0 7 * * *",
            Handler::PauseAutoLift,
            "2026-03-28T00:00:00Z",
        );
        jobs.insert(&other_case).unwrap();
        assert_eq!(
            jobs.get_by_name("Pause-Auto-Lift-Check")
                .unwrap()
                .map(|j| j.id),
            Some("job_z".to_owned())
        );
    }

    #[test]
    fn jobs_are_found_by_id_and_by_name() {
        let jobs = seeded();
        assert_eq!(
            jobs.get("job_a").unwrap().unwrap().name.as_str(),
            "pause-auto-lift-check"
        );
        assert_eq!(
            jobs.get_by_name("daily-reminder-check")
                .unwrap()
                .unwrap()
                .id,
            "job_b"
        );
        assert!(jobs.get("job_x").unwrap().is_none());
        assert!(jobs.get_by_name("nope").unwrap().is_none());
    }

    #[test]
    fn the_list_is_ordered_by_creation_then_id_and_paged() {
        let jobs = seeded();
        let (all, total) = jobs.list(1, 10, None).unwrap();
        assert_eq!(total, 4);
        assert_eq!(ids(&all), ["job_b", "job_a", "job_c", "job_d"]);
        let (page2, total) = jobs.list(2, 3, None).unwrap();
        assert_eq!((ids(&page2), total), (vec!["job_d"], 4));
        let (past_end, total) = jobs.list(3, 3, None).unwrap();
        assert_eq!((past_end.len(), total), (0, 4));
        assert_eq!(ids(&jobs.list(0, 1, None).unwrap().0), ["job_b"]);
    }

    #[test]
    fn the_list_filters_by_handler() {
        let jobs = seeded();
        let (rows, total) = jobs
            .list(1, 10, Some(Handler::CertificationExpiryCheck))
            .unwrap();
        assert_eq!((ids(&rows), total), (vec!["job_c", "job_d"], 2));
        let (rows, total) = jobs.list(1, 10, Some(Handler::RunLogRetention)).unwrap();
        assert_eq!((rows.len(), total), (0, 0));
    }

    #[test]
    fn update_replaces_and_refuses_a_taken_name() {
        let jobs = seeded();
        let mut a = jobs.get("job_a").unwrap().unwrap();
        a.set_enabled(false, at("2026-03-27T00:00:00Z"));
        assert!(jobs.update(&a).unwrap());
        assert_eq!(jobs.get("job_a").unwrap().unwrap().status(), "disabled");

        a.name = JobName::parse("daily-reminder-check").unwrap();
        assert!(matches!(
            jobs.update(&a),
            Err(StoreError::Conflict("jobs.name"))
        ));

        let ghost = job(
            "job_x",
            "ghost",
            "0 1 * * *",
            Handler::PauseAutoLift,
            "2026-03-27T00:00:00Z",
        );
        assert!(!jobs.update(&ghost).unwrap());
        assert!(jobs.get("job_x").unwrap().is_none());
    }

    #[test]
    fn delete_reports_whether_the_job_existed() {
        let jobs = seeded();
        assert!(jobs.delete("job_a").unwrap());
        assert!(!jobs.delete("job_a").unwrap());
        assert!(jobs.get("job_a").unwrap().is_none());
    }

    #[test]
    fn due_jobs_are_enabled_oldest_first_and_limited() {
        let jobs = seeded();
        // next runs: c 03-27 02:00, a 03-27 06:00, b 03-26 08:00, d 03-28 02:30.
        let mut a = jobs.get("job_a").unwrap().unwrap();
        a.set_enabled(false, at("2026-03-26T10:00:00Z"));
        jobs.update(&a).unwrap();
        let now = at("2026-03-27T07:00:00Z");
        assert_eq!(ids(&jobs.due(now, 10).unwrap()), ["job_b", "job_c"]);
        assert_eq!(ids(&jobs.due(now, 1).unwrap()), ["job_b"]);
        assert!(jobs.due(at("2026-03-26T07:59:59Z"), 10).unwrap().is_empty());
    }

    #[test]
    fn next_wake_is_the_earliest_next_run_of_enabled_jobs() {
        let jobs = seeded();
        assert_eq!(jobs.next_wake().unwrap(), Some(at("2026-03-26T08:00:00Z")));
        let mut b = jobs.get("job_b").unwrap().unwrap();
        b.set_enabled(false, at("2026-03-26T07:00:00Z"));
        jobs.update(&b).unwrap();
        assert_eq!(jobs.next_wake().unwrap(), Some(at("2026-03-27T02:00:00Z")));
        assert_eq!(InMemoryJobs::new().next_wake().unwrap(), None);
    }
}
