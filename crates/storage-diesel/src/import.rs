//! `MentorRepository::import_mentors` on diesel: an import's chunks read,
//! checked by the feed and written in one transaction, each chunk a
//! multi-row upsert of mentors and one of certifications.
//!
//! The upserts are `INSERT ... ON CONFLICT (key) DO UPDATE SET col =
//! excluded.col`: an existing row is updated in place, never deleted and
//! re-inserted (`REPLACE` would cascade the delete to the mentor's history).
//! Each mentor row is computed in Rust from the stored one
//! (`MentorUpsert::apply`, `PreferencesPatch::apply`), so one statement can
//! carry rows that change different fields.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::upsert::excluded;
use scenario_engine::rules::{Mentor, Preferences};
use scenario_engine::service::{ImportCounts, ImportFeed, StoreError};

use crate::Store;
use crate::batches::BATCH_ROWS;
use crate::conn::{AnyConnection, per_backend, write_tx};
use crate::error::StorageError;
use crate::mentor_rows::{CertificationRow, MentorRow};
use crate::schema::{certifications, mentors};

pub(crate) fn import_mentors(
    store: &Store,
    feed: &mut dyn ImportFeed,
    now: DateTime<Utc>,
) -> Result<Option<ImportCounts>, StoreError> {
    let mut conn = store.conn()?;
    if feed.failed() {
        // Bad lines are known already: this pass only reads, to check the
        // rest against storage, so it takes no write lock.
        pull(&mut conn, feed, now)?;
        return Ok(None);
    }
    let written = write_tx(&mut conn, |c| {
        if let AnyConnection::Postgres(_) = c {
            // No other writer may change a mentor between our read of a
            // chunk and its upsert (on SQLite, BEGIN IMMEDIATE already
            // holds the one write lock). Readers, and writers of other
            // tables (evaluations, notifications), go on.
            c.batch_execute("LOCK TABLE mentors IN SHARE ROW EXCLUSIVE MODE")?;
        }
        let counts = pull(c, feed, now)?;
        if feed.failed() {
            return Err(StorageError::ImportRejected);
        }
        Ok(counts)
    });
    match written {
        Ok(counts) => Ok(Some(counts)),
        Err(StorageError::ImportRejected) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Pulls every chunk of the feed; writes each one while the feed has not failed.
fn pull(
    c: &mut AnyConnection,
    feed: &mut dyn ImportFeed,
    now: DateTime<Utc>,
) -> Result<ImportCounts, StorageError> {
    let mut counts = ImportCounts::default();
    loop {
        let chunk = feed.next_chunk(BATCH_ROWS);
        if chunk.is_empty() {
            return Ok(counts);
        }
        let ids: Vec<&str> = chunk.iter().map(|l| l.mentor.user_id.as_str()).collect();
        let stored: Vec<MentorRow> = mentors::table
            .filter(mentors::user_id.eq_any(&ids))
            .select(MentorRow::as_select())
            .load(c)?;
        let mut existing: HashMap<String, (Mentor, Preferences)> =
            HashMap::with_capacity(stored.len());
        for row in stored {
            let preferences = row.preferences();
            let mentor = row.into_mentor()?;
            existing.insert(mentor.user_id.clone(), (mentor, preferences));
        }
        let before: Vec<Option<&Mentor>> = chunk
            .iter()
            .map(|l| existing.get(&l.mentor.user_id).map(|(m, _)| m))
            .collect();
        feed.admit(&chunk, &before);
        if feed.failed() {
            continue;
        }
        let mut mentor_rows = Vec::with_capacity(chunk.len());
        let mut cert_rows = Vec::new();
        for l in &chunk {
            let m = &l.mentor;
            let old = existing.get(&m.user_id);
            let mentor = m
                .upsert
                .apply(&m.user_id, old.map(|(o, _)| o), now)
                .ok_or(StorageError::Corrupt("a new mentor needs an org_id"))?;
            let preferences = m
                .preferences
                .apply(old.map_or_else(Preferences::default, |(_, p)| *p));
            mentor_rows.push(MentorRow::new(&mentor, preferences));
            cert_rows.extend(
                m.certifications
                    .iter()
                    .map(|cert| CertificationRow::of(&m.user_id, cert, now)),
            );
            if old.is_some() {
                counts.updated += 1;
            } else {
                counts.created += 1;
            }
        }
        upsert_mentors(c, &mentor_rows)?;
        for rows in cert_rows.chunks(BATCH_ROWS) {
            upsert_certifications(c, rows)?;
        }
    }
}

/// One multi-row upsert of whole mentor rows. `created_at` and the pause
/// are not in the update: an import never changes them on an existing mentor.
fn upsert_mentors(c: &mut AnyConnection, rows: &[MentorRow]) -> QueryResult<usize> {
    per_backend!(c, |c| diesel::insert_into(mentors::table)
        .values(rows)
        .on_conflict(mentors::user_id)
        .do_update()
        .set((
            mentors::org_id.eq(excluded(mentors::org_id)),
            mentors::status.eq(excluded(mentors::status)),
            mentors::last_active_at.eq(excluded(mentors::last_active_at)),
            mentors::sessions_count.eq(excluded(mentors::sessions_count)),
            mentors::first_session_at.eq(excluded(mentors::first_session_at)),
            mentors::pref_all.eq(excluded(mentors::pref_all)),
            mentors::pref_inactivity.eq(excluded(mentors::pref_inactivity)),
            mentors::pref_milestone.eq(excluded(mentors::pref_milestone)),
            mentors::pref_certification_expiry.eq(excluded(mentors::pref_certification_expiry)),
            mentors::updated_at.eq(excluded(mentors::updated_at)),
        ))
        .execute(c))
}

/// One multi-row upsert of certifications: created, or replaced keeping
/// their `created_at`, as `PUT .../certifications/{id}` does.
fn upsert_certifications(c: &mut AnyConnection, rows: &[CertificationRow]) -> QueryResult<usize> {
    per_backend!(c, |c| diesel::insert_into(certifications::table)
        .values(rows)
        .on_conflict((certifications::user_id, certifications::certification_id))
        .do_update()
        .set((
            certifications::name.eq(excluded(certifications::name)),
            certifications::issued_at.eq(excluded(certifications::issued_at)),
            certifications::expires_at.eq(excluded(certifications::expires_at)),
            certifications::required.eq(excluded(certifications::required)),
            certifications::updated_at.eq(excluded(certifications::updated_at)),
        ))
        .execute(c))
}
