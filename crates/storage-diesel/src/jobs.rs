//! `JobRepository` on diesel: the job registry and the one-time markers.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use scheduler_core::{Handler, Job, JobName, JobRepository, Schedule, StoreError};

use crate::Store;
use crate::conn::{AnyConnection, per_backend, write_tx};
use crate::convert::{from_millis, opt_from_millis, to_millis};
use crate::error::StorageError;
use crate::schema::{jobs, markers};
use crate::totals::{Counted, list_total};

/// What `update` writes: everything but `last_run_*`, which only
/// `record_last_run` writes (an update racing with a finishing run must not
/// undo it).
#[derive(AsChangeset)]
#[diesel(table_name = jobs, treat_none_as_null = true)]
struct JobChanges {
    name: String,
    cron_expression: String,
    timezone: String,
    enabled: bool,
    params: String,
    misfire_deadline_ms: i64,
    updated_at: i64,
    next_run_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs, treat_none_as_null = true)]
struct JobRow {
    id: String,
    name: String,
    cron_expression: String,
    timezone: String,
    handler: String,
    enabled: bool,
    params: String,
    misfire_deadline_ms: i64,
    created_at: i64,
    updated_at: i64,
    next_run_at: Option<i64>,
    last_run_at: Option<i64>,
    last_run_status: Option<String>,
    last_run_id: Option<String>,
}

impl JobRow {
    fn of(j: &Job) -> Self {
        Self {
            id: j.id.clone(),
            name: j.name.as_str().to_owned(),
            cron_expression: j.schedule.spec.as_str().to_owned(),
            timezone: j.schedule.timezone_name().to_owned(),
            handler: j.handler.as_str().to_owned(),
            enabled: j.enabled,
            params: serde_json::Value::Object(j.params.clone()).to_string(),
            misfire_deadline_ms: j.misfire_deadline.num_milliseconds(),
            created_at: to_millis(j.created_at),
            updated_at: to_millis(j.updated_at),
            next_run_at: j.next_run_at.map(to_millis),
            last_run_at: j.last_run_at.map(to_millis),
            last_run_status: j.last_run_status.clone(),
            last_run_id: None,
        }
    }

    fn into_job(self) -> Result<Job, StorageError> {
        let params = match serde_json::from_str(&self.params) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(StorageError::Corrupt("jobs.params")),
        };
        Ok(Job {
            name: JobName::parse(&self.name).map_err(|_| StorageError::Corrupt("jobs.name"))?,
            schedule: Schedule::parse(&self.cron_expression, &self.timezone)
                .map_err(|_| StorageError::Corrupt("jobs.cron_expression"))?,
            handler: Handler::parse(&self.handler)
                .map_err(|_| StorageError::Corrupt("jobs.handler"))?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            next_run_at: opt_from_millis(self.next_run_at)?,
            last_run_at: opt_from_millis(self.last_run_at)?,
            misfire_deadline: TimeDelta::milliseconds(self.misfire_deadline_ms),
            id: self.id,
            enabled: self.enabled,
            params,
            last_run_status: self.last_run_status,
        })
    }
}

fn load(rows: Vec<JobRow>) -> Result<Vec<Job>, StorageError> {
    rows.into_iter().map(JobRow::into_job).collect()
}

/// The key of the PostgreSQL advisory lock that job creators under a cap
/// take in turn (`insert_capped`): any constant no other lock uses.
const JOBS_CAP_LOCK: i64 = 0x006a_6f62_7363_6170; // "jobscap"

/// Inserts a job; `false` when its id is taken. The id is checked first so
/// that the conflict is named the same on both backends (a duplicate name
/// is a unique violation, named by `error::conflict_name`).
fn insert_job(c: &mut AnyConnection, job: &Job) -> Result<bool, StorageError> {
    let taken: i64 = jobs::table
        .filter(jobs::id.eq(&job.id))
        .count()
        .get_result(c)?;
    if taken > 0 {
        return Ok(false);
    }
    diesel::insert_into(jobs::table)
        .values(&JobRow::of(job))
        .execute(c)?;
    Ok(true)
}

impl JobRepository for Store {
    fn insert(&self, job: &Job) -> Result<(), StoreError> {
        if self.with_conn::<_, StoreError>(|c| insert_job(c, job))? {
            Ok(())
        } else {
            Err(StoreError::Conflict("jobs.id"))
        }
    }

    fn insert_capped(&self, job: &Job, max_jobs: u64) -> Result<bool, StoreError> {
        let inserted = self.write(|c| -> Result<Option<bool>, StorageError> {
            // SQLite's write transaction already excludes every other
            // writer; on PostgreSQL two creators could each count one job
            // under the cap, so they take turns on a lock of their own
            // (held to the end of the transaction; other writers of jobs
            // do not wait for it).
            if let AnyConnection::Postgres(_) = c {
                c.batch_execute(&format!("SELECT pg_advisory_xact_lock({JOBS_CAP_LOCK})"))?;
            }
            let stored: i64 = jobs::table.count().get_result(c)?;
            if u64::try_from(stored).unwrap_or(0) >= max_jobs {
                return Ok(None);
            }
            Ok(Some(insert_job(c, job)?))
        });
        match inserted.map_err(StoreError::from)? {
            None => Ok(false),
            Some(true) => Ok(true),
            Some(false) => Err(StoreError::Conflict("jobs.id")),
        }
    }

    fn get(&self, id: &str) -> Result<Option<Job>, StoreError> {
        self.with_conn(|c| {
            let row = per_backend!(c, |c| jobs::table
                .find(id)
                .select(JobRow::as_select())
                .first::<JobRow>(c)
                .optional())?;
            row.map(JobRow::into_job).transpose()
        })
    }

    fn get_by_name(&self, name: &str) -> Result<Option<Job>, StoreError> {
        self.with_conn(|c| {
            let row = per_backend!(c, |c| jobs::table
                .filter(jobs::name.eq(name))
                .select(JobRow::as_select())
                .first::<JobRow>(c)
                .optional())?;
            row.map(JobRow::into_job).transpose()
        })
    }

    fn list(
        &self,
        page: u32,
        limit: u32,
        handler: Option<Handler>,
    ) -> Result<(Vec<Job>, u64), StoreError> {
        self.with_conn(|conn| {
            // The total and the page in one transaction, so that they agree.
            conn.transaction(|c| {
                let total = list_total(c, Counted::Jobs, handler.is_none(), |c| {
                    // Counted only for a handler: without one the total is
                    // the kept count.
                    jobs::table
                        .filter(jobs::handler.eq(handler.map_or("", Handler::as_str)))
                        .count()
                        .get_result(c)
                })?;
                let offset = u64::from(page.max(1) - 1) * u64::from(limit);
                // Two fixed shapes on the concrete connection, which come
                // from the statement cache as they are.
                let page = jobs::table
                    .order((jobs::created_at.asc(), jobs::id.asc()))
                    .limit(i64::from(limit))
                    .offset(i64::try_from(offset).unwrap_or(i64::MAX));
                let rows: Vec<JobRow> = match handler {
                    None => per_backend!(c, |c| page.select(JobRow::as_select()).load(c))?,
                    Some(h) => per_backend!(c, |c| page
                        .filter(jobs::handler.eq(h.as_str()))
                        .select(JobRow::as_select())
                        .load(c))?,
                };
                Ok((load(rows)?, total))
            })
        })
    }

    fn update(&self, job: &Job) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            let row = JobRow::of(job);
            let changes = JobChanges {
                name: row.name,
                cron_expression: row.cron_expression,
                timezone: row.timezone,
                enabled: row.enabled,
                params: row.params,
                misfire_deadline_ms: row.misfire_deadline_ms,
                updated_at: row.updated_at,
                next_run_at: row.next_run_at,
            };
            let n = diesel::update(jobs::table.find(&job.id))
                .set(&changes)
                .execute(c)?;
            Ok(n > 0)
        })
    }

    fn delete(&self, id: &str) -> Result<bool, StoreError> {
        self.with_conn(|c| Ok(diesel::delete(jobs::table.find(id)).execute(c)? > 0))
    }

    fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError> {
        self.with_conn(|c| {
            let rows: Vec<JobRow> = jobs::table
                .filter(jobs::enabled.eq(true))
                .filter(jobs::next_run_at.le(to_millis(now)))
                .order((jobs::next_run_at.asc(), jobs::id.asc()))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select(JobRow::as_select())
                .load(c)?;
            load(rows)
        })
    }

    fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.with_conn(|c| {
            let next: Option<i64> = jobs::table
                .filter(jobs::enabled.eq(true))
                .filter(jobs::next_run_at.is_not_null())
                .order(jobs::next_run_at.asc())
                .select(jobs::next_run_at)
                .first::<Option<i64>>(c)
                .optional()?
                .flatten();
            opt_from_millis(next)
        })
    }

    fn seed_once(
        &self,
        marker: &str,
        seed: &[Job],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            write_tx(c, |c| -> Result<bool, StorageError> {
                let inserted = per_backend!(c, |c| diesel::insert_into(markers::table)
                    .values((
                        markers::name.eq(marker),
                        markers::created_at.eq(to_millis(now))
                    ))
                    .on_conflict_do_nothing()
                    .execute(c))?;
                if inserted == 0 {
                    return Ok(false);
                }
                for job in seed {
                    let name_taken: i64 = jobs::table
                        .filter(jobs::name.eq(job.name.as_str()))
                        .count()
                        .get_result(c)?;
                    if name_taken == 0 {
                        insert_job(c, job)?;
                    }
                }
                Ok(true)
            })
        })
    }

    fn set_next_run(
        &self,
        id: &str,
        expected: Option<DateTime<Utc>>,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            let next = jobs::next_run_at.eq(next.map(to_millis));
            let n = match expected {
                Some(t) => diesel::update(
                    jobs::table
                        .find(id)
                        .filter(jobs::next_run_at.eq(to_millis(t))),
                )
                .set(next)
                .execute(c)?,
                None => diesel::update(jobs::table.find(id).filter(jobs::next_run_at.is_null()))
                    .set(next)
                    .execute(c)?,
            };
            Ok(n > 0)
        })
    }

    fn record_last_run(
        &self,
        id: &str,
        started: DateTime<Utc>,
        status: &str,
    ) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            let n = diesel::update(jobs::table.find(id))
                .set((
                    jobs::last_run_at.eq(to_millis(started)),
                    jobs::last_run_status.eq(status),
                ))
                .execute(c)?;
            Ok(n > 0)
        })
    }
}
