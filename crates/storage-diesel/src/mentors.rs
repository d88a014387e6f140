//! `MentorRepository` on diesel.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use scenario_engine::rules::{Certification, MentorStatus, MilestoneType, Pause, Preferences};
use scenario_engine::service::{
    ActivityEvent, ActivityOutcome, ImportCounts, ImportFeed, MaybeMentor, MentorFilter,
    MentorRecord, MentorRepository, MentorUpsert, PageRequest, Paged, PreferencesPatch,
    SESSION_COMPLETED, StoreError,
};

use crate::Store;
use crate::conn::{AnyConnection, per_backend, write_tx};
use crate::convert::to_millis;
use crate::error::StorageError;
use crate::links::erase_about;
use crate::mentor_rows::{CertificationRow, MentorRow, load_record, record_of};
use crate::schema::{activity_events, certifications, mentor_milestones, mentors};
use crate::totals::{Counted, list_total};

#[derive(AsChangeset)]
#[diesel(table_name = mentors)]
struct MentorChanges {
    org_id: Option<String>,
    status: Option<String>,
    last_active_at: Option<i64>,
    sessions_count: Option<i64>,
    first_session_at: Option<i64>,
    updated_at: i64,
}

/// Takes the mentor's row lock (PostgreSQL) before a read-modify-write, so
/// that concurrent writers of one mentor queue instead of losing updates;
/// SQLite's `BEGIN IMMEDIATE` already serialises writers. The update writes
/// `updated_at` back unchanged: an outcome that changes nothing (a replayed
/// event) must not move it. Returns whether the mentor exists.
fn lock_mentor(conn: &mut AnyConnection, user_id: &str) -> QueryResult<bool> {
    let n = diesel::update(mentors::table.find(user_id))
        .set(mentors::updated_at.eq(mentors::updated_at))
        .execute(conn)?;
    Ok(n > 0)
}

/// Marks the mentor changed.
fn bump_updated_at(
    conn: &mut AnyConnection,
    user_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(mentors::table.find(user_id))
        .set(mentors::updated_at.eq(to_millis(now)))
        .execute(conn)
}

/// Records when a milestone was reached, unless it already was.
pub(crate) fn record_milestone(
    conn: &mut AnyConnection,
    user_id: &str,
    milestone: MilestoneType,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let values = (
        mentor_milestones::user_id.eq(user_id),
        mentor_milestones::milestone_type.eq(milestone.as_str()),
        mentor_milestones::achieved_at.eq(to_millis(at)),
    );
    per_backend!(conn, |c| diesel::insert_into(mentor_milestones::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))
}

/// Attaches each mentor's certifications, loaded in one query.
fn with_certifications(
    conn: &mut AnyConnection,
    rows: Vec<MentorRow>,
) -> Result<Vec<MentorRecord>, StorageError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    let mut certs: Vec<CertificationRow> = certifications::table
        .filter(certifications::user_id.eq_any(&ids))
        .order((
            certifications::user_id.asc(),
            certifications::certification_id.asc(),
        ))
        .select(CertificationRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (mine, rest): (Vec<_>, Vec<_>) =
            certs.into_iter().partition(|c| c.user_id == row.user_id);
        certs = rest;
        out.push(record_of(row, mine)?);
    }
    Ok(out)
}

impl MentorRepository for Store {
    fn get_mentor(&self, user_id: &str) -> MaybeMentor<MentorRecord> {
        self.with_conn(|conn| load_record(conn, user_id))
    }

    fn list_mentors(
        &self,
        filter: &MentorFilter,
        page: PageRequest,
    ) -> Result<Paged<MentorRecord>, StoreError> {
        let filtered = || {
            let mut q = mentors::table.into_boxed();
            if let Some(org) = &filter.org_id {
                q = q.filter(mentors::org_id.eq(org.clone()));
            }
            if let Some(status) = filter.status {
                q = q.filter(mentors::status.eq(status.as_str()));
            }
            q
        };
        let (total, out) = self.with_conn::<_, StoreError>(|conn| {
            conn.transaction(|c| -> Result<_, StorageError> {
                let total = list_total(
                    c,
                    Counted::Mentors,
                    *filter == MentorFilter::default(),
                    |c| filtered().count().get_result(c),
                )?;
                let rows: Vec<MentorRow> = filtered()
                    .order(mentors::user_id.asc())
                    .limit(i64::from(page.limit))
                    .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
                    .select(MentorRow::as_select())
                    .load(c)?;
                Ok((total, with_certifications(c, rows)?))
            })
        })?;
        Ok(Paged { rows: out, total })
    }

    fn mentors_after(
        &self,
        after: Option<&str>,
        status: Option<MentorStatus>,
        limit: u32,
    ) -> Result<Vec<MentorRecord>, StoreError> {
        let mut q = mentors::table.into_boxed();
        if let Some(a) = after {
            q = q.filter(mentors::user_id.gt(a));
        }
        if let Some(s) = status {
            q = q.filter(mentors::status.eq(s.as_str()));
        }
        self.with_conn(|conn| {
            let rows: Vec<MentorRow> = q
                .order(mentors::user_id.asc())
                .limit(i64::from(limit))
                .select(MentorRow::as_select())
                .load(conn)?;
            with_certifications(conn, rows)
        })
    }

    fn upsert_mentor(
        &self,
        user_id: &str,
        upsert: &MentorUpsert,
        now: DateTime<Utc>,
    ) -> Result<(MentorRecord, bool), StoreError> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            let changes = MentorChanges {
                org_id: upsert.org_id.clone(),
                status: upsert.status.map(|s| s.as_str().to_owned()),
                last_active_at: upsert.last_active_at.map(to_millis),
                sessions_count: upsert.sessions_count.map(i64::from),
                first_session_at: upsert.first_session_at.map(to_millis),
                updated_at: to_millis(now),
            };
            let created = if lock_mentor(c, user_id)? {
                diesel::update(mentors::table.find(user_id))
                    .set(&changes)
                    .execute(c)?;
                false
            } else {
                let org_id = upsert
                    .org_id
                    .clone()
                    .ok_or(StorageError::Corrupt("a new mentor needs an org_id"))?;
                let defaults = Preferences::default();
                let row = MentorRow {
                    user_id: user_id.to_owned(),
                    org_id,
                    status: upsert
                        .status
                        .unwrap_or(MentorStatus::Active)
                        .as_str()
                        .to_owned(),
                    pause_reason: None,
                    pause_since: None,
                    pause_until: None,
                    last_active_at: upsert.last_active_at.map(to_millis),
                    sessions_count: i64::from(upsert.sessions_count.unwrap_or(0)),
                    first_session_at: upsert.first_session_at.map(to_millis),
                    pref_all: defaults.all,
                    pref_inactivity: defaults.inactivity,
                    pref_milestone: defaults.milestone,
                    pref_certification_expiry: defaults.certification_expiry,
                    created_at: to_millis(upsert.created_at.unwrap_or(now)),
                    updated_at: to_millis(now),
                };
                // A concurrent creator may commit between our lock attempt (which
                // had no row to lock) and this insert; then ours is an update.
                let inserted = per_backend!(c, |c| diesel::insert_into(mentors::table)
                    .values(&row)
                    .on_conflict_do_nothing()
                    .execute(c))?;
                if inserted == 0 {
                    lock_mentor(c, user_id)?;
                    diesel::update(mentors::table.find(user_id))
                        .set(&changes)
                        .execute(c)?;
                }
                inserted > 0
            };
            let record = load_record(c, user_id)?
                .ok_or(StorageError::Corrupt("mentor vanished in its transaction"))?;
            Ok((record, created))
        })
        .map_err(StoreError::from)
    }

    fn delete_mentor(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        // The other tables about a mentor reference `mentors` with ON
        // DELETE CASCADE; the evaluations, notifications and dedupe keys go
        // after the mentor's row, which waits for any writer holding the
        // mentor (`links.rs`).
        let n = write_tx(&mut conn, |c| -> Result<usize, StorageError> {
            let n = diesel::delete(mentors::table.find(user_id)).execute(c)?;
            if n > 0 {
                erase_about(c, user_id)?;
            }
            Ok(n)
        })
        .map_err(StoreError::from)?;
        Ok(n > 0)
    }

    fn record_activity(
        &self,
        user_id: &str,
        event: &ActivityEvent,
        now: DateTime<Utc>,
    ) -> MaybeMentor<ActivityOutcome> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            if !lock_mentor(c, user_id)? {
                return Ok(None);
            }
            if let Some(event_id) = &event.event_id {
                let seen: Option<(String, i64)> = activity_events::table
                    .find((user_id, event_id.as_str()))
                    .select((activity_events::kind, activity_events::occurred_at))
                    .first(c)
                    .optional()?;
                if let Some((kind, at)) = seen {
                    if kind == event.kind && at == to_millis(event.occurred_at) {
                        let record = load_record(c, user_id)?
                            .ok_or(StorageError::Corrupt("mentor vanished"))?;
                        return Ok(Some(ActivityOutcome::Replayed(record)));
                    }
                    return Ok(Some(ActivityOutcome::Conflict));
                }
                diesel::insert_into(activity_events::table)
                    .values((
                        activity_events::user_id.eq(user_id),
                        activity_events::event_id.eq(event_id.as_str()),
                        activity_events::kind.eq(event.kind.as_str()),
                        activity_events::occurred_at.eq(to_millis(event.occurred_at)),
                        activity_events::recorded_at.eq(to_millis(now)),
                    ))
                    .execute(c)?;
            }
            bump_updated_at(c, user_id, now)?;
            let at = to_millis(event.occurred_at);
            diesel::update(mentors::table.find(user_id))
                .filter(
                    mentors::last_active_at
                        .is_null()
                        .or(mentors::last_active_at.lt(at)),
                )
                .set(mentors::last_active_at.eq(at))
                .execute(c)?;
            if event.kind == SESSION_COMPLETED {
                diesel::update(mentors::table.find(user_id))
                    .set(mentors::sessions_count.eq(mentors::sessions_count + 1))
                    .execute(c)?;
                diesel::update(mentors::table.find(user_id))
                    .filter(
                        mentors::first_session_at
                            .is_null()
                            .or(mentors::first_session_at.gt(at)),
                    )
                    .set(mentors::first_session_at.eq(at))
                    .execute(c)?;
            }
            let record =
                load_record(c, user_id)?.ok_or(StorageError::Corrupt("mentor vanished"))?;
            if event.kind == SESSION_COMPLETED {
                let count = record.mentor.sessions_count;
                if let Some(t) = MilestoneType::ALL
                    .into_iter()
                    .find(|t| t.sessions_needed() == Some(count))
                {
                    record_milestone(c, user_id, t, event.occurred_at)?;
                }
            }
            Ok(Some(ActivityOutcome::Recorded(record)))
        })
        .map_err(StoreError::from)
    }

    fn put_certification(
        &self,
        user_id: &str,
        cert: &Certification,
        now: DateTime<Utc>,
    ) -> MaybeMentor<bool> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            if !lock_mentor(c, user_id)? {
                return Ok(None);
            }
            bump_updated_at(c, user_id, now)?;
            let key = (user_id, cert.certification_id.as_str());
            let updated = diesel::update(certifications::table.find(key))
                .set((
                    certifications::name.eq(cert.name.as_str()),
                    certifications::issued_at.eq(cert.issued_at.map(to_millis)),
                    certifications::expires_at.eq(to_millis(cert.expires_at)),
                    certifications::required.eq(cert.required),
                    certifications::updated_at.eq(to_millis(now)),
                ))
                .execute(c)?;
            if updated > 0 {
                return Ok(Some(false));
            }
            let row = CertificationRow {
                user_id: user_id.to_owned(),
                certification_id: cert.certification_id.clone(),
                name: cert.name.clone(),
                issued_at: cert.issued_at.map(to_millis),
                expires_at: to_millis(cert.expires_at),
                required: cert.required,
                created_at: to_millis(now),
                updated_at: to_millis(now),
            };
            diesel::insert_into(certifications::table)
                .values(&row)
                .execute(c)?;
            Ok(Some(true))
        })
        .map_err(StoreError::from)
    }

    fn delete_certification(&self, user_id: &str, certification_id: &str) -> MaybeMentor<bool> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            let exists: i64 = mentors::table
                .filter(mentors::user_id.eq(user_id))
                .count()
                .get_result(c)?;
            if exists == 0 {
                return Ok(None);
            }
            let n = diesel::delete(certifications::table.find((user_id, certification_id)))
                .execute(c)?;
            Ok(Some(n > 0))
        })
        .map_err(StoreError::from)
    }

    fn prune_activity_events_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        // One chunk, read off activity_events_recorded. The key is two
        // columns, which a row value names on both backends.
        let before = to_millis(before);
        let limit = i64::from(limit);
        let n = self
            .write(|c| -> Result<usize, StorageError> {
                Ok(match c {
                    AnyConnection::Postgres(pg) => diesel::sql_query(
                        "DELETE FROM activity_events WHERE (user_id, event_id) IN \
                         (SELECT user_id, event_id FROM activity_events WHERE recorded_at < $1 LIMIT $2)",
                    )
                    .bind::<BigInt, _>(before)
                    .bind::<BigInt, _>(limit)
                    .execute(pg)?,
                    AnyConnection::Sqlite(lite) => diesel::sql_query(
                        "DELETE FROM activity_events WHERE (user_id, event_id) IN \
                         (SELECT user_id, event_id FROM activity_events WHERE recorded_at < ? LIMIT ?)",
                    )
                    .bind::<BigInt, _>(before)
                    .bind::<BigInt, _>(limit)
                    .execute(lite)?,
                })
            })
            .map_err(StoreError::from)?;
        Ok(n as u64)
    }

    fn set_preferences(
        &self,
        user_id: &str,
        patch: &PreferencesPatch,
        now: DateTime<Utc>,
    ) -> MaybeMentor<Preferences> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            if !lock_mentor(c, user_id)? {
                return Ok(None);
            }
            bump_updated_at(c, user_id, now)?;
            let row: MentorRow = mentors::table
                .find(user_id)
                .select(MentorRow::as_select())
                .first(c)?;
            let prefs = patch.apply(row.preferences());
            diesel::update(mentors::table.find(user_id))
                .set((
                    mentors::pref_all.eq(prefs.all),
                    mentors::pref_inactivity.eq(prefs.inactivity),
                    mentors::pref_milestone.eq(prefs.milestone),
                    mentors::pref_certification_expiry.eq(prefs.certification_expiry),
                ))
                .execute(c)?;
            Ok(Some(prefs))
        })
        .map_err(StoreError::from)
    }

    fn set_status(
        &self,
        user_id: &str,
        status: MentorStatus,
        pause: Option<&Pause>,
        now: DateTime<Utc>,
    ) -> MaybeMentor<MentorRecord> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |c| -> Result<_, StorageError> {
            let n = diesel::update(mentors::table.find(user_id))
                .set((
                    mentors::status.eq(status.as_str()),
                    mentors::pause_reason.eq(pause.map(|p| p.reason.as_str())),
                    mentors::pause_since.eq(pause.map(|p| to_millis(p.since))),
                    mentors::pause_until.eq(pause.and_then(|p| p.until.map(to_millis))),
                    mentors::updated_at.eq(to_millis(now)),
                ))
                .execute(c)?;
            if n == 0 {
                return Ok(None);
            }
            load_record(c, user_id)
        })
        .map_err(StoreError::from)
    }

    fn import_mentors(
        &self,
        feed: &mut dyn ImportFeed,
        now: DateTime<Utc>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        crate::import::import_mentors(self, feed, now)
    }
}
