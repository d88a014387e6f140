//! The rows of `mentors` and `certifications`, their conversions to and
//! from the domain's mentor records, and reading one record: shared by
//! the mentor port, the import and the batch reads.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use scenario_engine::rules::{
    Certification, Mentor, MentorStatus, Pause, PauseReason, Preferences,
};
use scenario_engine::service::MentorRecord;

use crate::conn::{AnyConnection, per_backend};
use crate::convert::{from_millis, opt_from_millis, to_millis};
use crate::error::StorageError;
use crate::schema::{certifications, mentors};

// `treat_none_as_default_value = false`: every field is a plain value
// (`None` is NULL, never DEFAULT), so that SQLite runs a multi-row insert
// (`Store::bulk_insert_mentors`) as one statement: an `Option` standing for
// DEFAULT makes diesel run a SQLite batch as one `INSERT` per row, in a
// nested transaction that fails inside `BEGIN IMMEDIATE`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mentors, treat_none_as_default_value = false)]
pub(crate) struct MentorRow {
    pub user_id: String,
    pub org_id: String,
    pub status: String,
    pub pause_reason: Option<String>,
    pub pause_since: Option<i64>,
    pub pause_until: Option<i64>,
    pub last_active_at: Option<i64>,
    pub sessions_count: i64,
    pub first_session_at: Option<i64>,
    pub pref_all: bool,
    pub pref_inactivity: bool,
    pub pref_milestone: bool,
    pub pref_certification_expiry: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certifications, treat_none_as_default_value = false)]
pub(crate) struct CertificationRow {
    pub user_id: String,
    pub certification_id: String,
    pub name: String,
    pub issued_at: Option<i64>,
    pub expires_at: i64,
    pub required: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl MentorRow {
    /// The row of a whole record, as given.
    pub(crate) fn of(r: &MentorRecord) -> Self {
        Self::new(&r.mentor, r.preferences)
    }

    /// The row of a mentor and their preferences, as given.
    pub(crate) fn new(m: &Mentor, preferences: Preferences) -> Self {
        Self {
            user_id: m.user_id.clone(),
            org_id: m.org_id.clone(),
            status: m.status.as_str().to_owned(),
            pause_reason: m.pause.as_ref().map(|p| p.reason.as_str().to_owned()),
            pause_since: m.pause.as_ref().map(|p| to_millis(p.since)),
            pause_until: m.pause.as_ref().and_then(|p| p.until.map(to_millis)),
            last_active_at: m.last_active_at.map(to_millis),
            sessions_count: i64::from(m.sessions_count),
            first_session_at: m.first_session_at.map(to_millis),
            pref_all: preferences.all,
            pref_inactivity: preferences.inactivity,
            pref_milestone: preferences.milestone,
            pref_certification_expiry: preferences.certification_expiry,
            created_at: to_millis(m.created_at),
            updated_at: to_millis(m.updated_at),
        }
    }

    pub(crate) fn preferences(&self) -> Preferences {
        Preferences {
            all: self.pref_all,
            inactivity: self.pref_inactivity,
            milestone: self.pref_milestone,
            certification_expiry: self.pref_certification_expiry,
        }
    }

    pub(crate) fn into_mentor(self) -> Result<Mentor, StorageError> {
        let pause = match (&self.pause_reason, self.pause_since) {
            (Some(reason), Some(since)) => Some(Pause {
                reason: PauseReason::parse(reason)
                    .map_err(|_| StorageError::Corrupt("mentors.pause_reason"))?,
                since: from_millis(since)?,
                until: opt_from_millis(self.pause_until)?,
            }),
            _ => None,
        };
        Ok(Mentor {
            status: MentorStatus::parse(&self.status)
                .map_err(|_| StorageError::Corrupt("mentors.status"))?,
            pause,
            last_active_at: opt_from_millis(self.last_active_at)?,
            sessions_count: u32::try_from(self.sessions_count)
                .map_err(|_| StorageError::Corrupt("sessions_count"))?,
            first_session_at: opt_from_millis(self.first_session_at)?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            user_id: self.user_id,
            org_id: self.org_id,
        })
    }
}

impl CertificationRow {
    /// The row of `cert`, written at `now`.
    pub(crate) fn of(user_id: &str, cert: &Certification, now: DateTime<Utc>) -> Self {
        Self {
            user_id: user_id.to_owned(),
            certification_id: cert.certification_id.clone(),
            name: cert.name.clone(),
            issued_at: cert.issued_at.map(to_millis),
            expires_at: to_millis(cert.expires_at),
            required: cert.required,
            created_at: to_millis(now),
            updated_at: to_millis(now),
        }
    }

    pub(crate) fn into_certification(self) -> Result<Certification, StorageError> {
        Ok(Certification {
            certification_id: self.certification_id,
            name: self.name,
            issued_at: opt_from_millis(self.issued_at)?,
            expires_at: from_millis(self.expires_at)?,
            required: self.required,
        })
    }
}

/// A mentor with its certifications (by id), `None` when there is none:
/// one statement, a left join, so that the mentor and its certifications
/// are read at one moment without a transaction of their own (on SQLite an
/// explicit `BEGIN` and `COMMIT` cost more than the second read did). Each
/// row repeats the mentor; a mentor without certifications is one row.
pub(crate) fn load_record(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Option<MentorRecord>, StorageError> {
    // On the concrete connection, so that the statement comes from the
    // cache without its SQL being written again (docs/benchmarks.md,
    // "Reads through HTTP").
    let rows: Vec<(MentorRow, Option<CertificationRow>)> = per_backend!(conn, |c| {
        mentors::table
            .left_join(certifications::table.on(certifications::user_id.eq(mentors::user_id)))
            .filter(mentors::user_id.eq(user_id))
            .order(certifications::certification_id.asc())
            .select((
                MentorRow::as_select(),
                Option::<CertificationRow>::as_select(),
            ))
            .load(c)?
    });
    let mut rows = rows.into_iter();
    let Some((mentor, first)) = rows.next() else {
        return Ok(None);
    };
    let certs = first
        .into_iter()
        .chain(rows.filter_map(|(_, cert)| cert))
        .collect();
    record_of(mentor, certs).map(Some)
}

pub(crate) fn record_of(
    row: MentorRow,
    certs: Vec<CertificationRow>,
) -> Result<MentorRecord, StorageError> {
    let preferences = row.preferences();
    Ok(MentorRecord {
        mentor: row.into_mentor()?,
        certifications: certs
            .into_iter()
            .map(CertificationRow::into_certification)
            .collect::<Result<_, _>>()?,
        preferences,
    })
}
