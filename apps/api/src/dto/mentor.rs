//! Mentor wire types (docs/api.md, "Mentors").

use scenario_engine::rules::{Certification, MentorStatus, Pause, PauseReason, Preferences};
use scenario_engine::service::{
    ActivityEvent, ImportCounts, MentorFilter, MentorImport, MentorRecord, MentorUpsert,
    PreferencesPatch,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{instant, opt_instant, parse_instant, parse_opt_instant};
use crate::error::ApiError;

/// A pause on a mentor.
#[derive(Debug, Serialize, ToSchema)]
pub struct PauseDto {
    /// `certification_expired`, `requested` or `admin`.
    pub reason: &'static str,
    /// Since when.
    pub since: String,
    /// Until when, if it ends by itself.
    pub until: Option<String>,
}

/// A certification of a mentor.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationDto {
    /// Platform id.
    pub certification_id: String,
    /// Name.
    pub name: String,
    /// Issued at, if known.
    pub issued_at: Option<String>,
    /// Expires at.
    pub expires_at: String,
    /// Whether expiry pauses the mentor.
    pub required: bool,
}

/// Notification switches.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesDto {
    /// Inactivity reminders.
    pub inactivity: bool,
    /// Milestone congratulations.
    pub milestone: bool,
    /// Certification expiry reminders.
    pub certification_expiry: bool,
    /// Master switch.
    pub all: bool,
}

impl From<Preferences> for PreferencesDto {
    fn from(p: Preferences) -> Self {
        Self {
            inactivity: p.inactivity,
            milestone: p.milestone,
            certification_expiry: p.certification_expiry,
            all: p.all,
        }
    }
}

/// A mentor as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MentorDto {
    /// Platform id.
    pub user_id: String,
    /// Organisation.
    pub org_id: String,
    /// `active`, `paused` or `inactive`.
    pub status: &'static str,
    /// The pause, or null.
    pub pause: Option<PauseDto>,
    /// Last activity, or null.
    pub last_active_at: Option<String>,
    /// Completed sessions.
    pub sessions_count: u32,
    /// First completed session, or null.
    pub first_session_at: Option<String>,
    /// First seen.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Certifications, by id.
    pub certifications: Vec<CertificationDto>,
    /// Notification switches.
    pub preferences: PreferencesDto,
}

impl From<&Certification> for CertificationDto {
    fn from(c: &Certification) -> Self {
        Self {
            certification_id: c.certification_id.clone(),
            name: c.name.clone(),
            issued_at: opt_instant(c.issued_at),
            expires_at: instant(c.expires_at),
            required: c.required,
        }
    }
}

impl From<MentorRecord> for MentorDto {
    fn from(r: MentorRecord) -> Self {
        let m = r.mentor;
        Self {
            status: m.status.as_str(),
            pause: m.pause.map(|p: Pause| PauseDto {
                reason: p.reason.as_str(),
                since: instant(p.since),
                until: opt_instant(p.until),
            }),
            last_active_at: opt_instant(m.last_active_at),
            sessions_count: m.sessions_count,
            first_session_at: opt_instant(m.first_session_at),
            created_at: instant(m.created_at),
            updated_at: instant(m.updated_at),
            certifications: r
                .certifications
                .iter()
                .map(CertificationDto::from)
                .collect(),
            preferences: r.preferences.into(),
            user_id: m.user_id,
            org_id: m.org_id,
        }
    }
}

/// `PUT /api/v1/mentors/{user_id}`: create or update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MentorBody {
    /// Organisation; required on create.
    pub org_id: Option<String>,
    /// `active` or `inactive` (pauses have their own endpoints).
    pub status: Option<String>,
    /// RFC 3339.
    pub last_active_at: Option<String>,
    /// 0 or more.
    pub sessions_count: Option<i64>,
    /// RFC 3339.
    pub first_session_at: Option<String>,
    /// RFC 3339; create only (default: now).
    pub created_at: Option<String>,
}

/// Largest accepted `sessions_count`.
pub const MAX_SESSIONS: i64 = 10_000_000;

impl TryFrom<MentorBody> for MentorUpsert {
    type Error = ApiError;

    fn try_from(b: MentorBody) -> Result<Self, ApiError> {
        let sessions_count = match b.sessions_count {
            None => None,
            Some(n) if (0..=MAX_SESSIONS).contains(&n) => u32::try_from(n).ok(),
            Some(n) => {
                return Err(scenario_engine::rules::OutOfRange {
                    field: "sessions_count",
                    value: n,
                    min: 0,
                    max: MAX_SESSIONS,
                }
                .into());
            }
        };
        Ok(Self {
            org_id: b.org_id,
            status: b.status.as_deref().map(MentorStatus::parse).transpose()?,
            last_active_at: parse_opt_instant("last_active_at", b.last_active_at.as_deref())?,
            sessions_count,
            first_session_at: parse_opt_instant("first_session_at", b.first_session_at.as_deref())?,
            created_at: parse_opt_instant("created_at", b.created_at.as_deref())?,
        })
    }
}

/// Filters of `GET /api/v1/mentors`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MentorListQuery {
    /// Only this organisation.
    pub org_id: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// 1-100, default 20.
    pub limit: Option<i64>,
}

impl MentorListQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// [`ApiError::UnknownName`] for an unknown status.
    pub fn filter(&self) -> Result<MentorFilter, ApiError> {
        if let Some(org) = &self.org_id {
            scenario_engine::service::validate_platform_id("org_id", org)?;
        }
        Ok(MentorFilter {
            org_id: self.org_id.clone(),
            status: self
                .status
                .as_deref()
                .map(MentorStatus::parse)
                .transpose()?,
        })
    }
}

/// `POST /api/v1/mentors/{user_id}/activity`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    /// RFC 3339.
    pub occurred_at: String,
    /// 1-64 characters; `session_completed` counts a session.
    pub kind: String,
    /// Idempotency key.
    pub event_id: Option<String>,
}

impl TryFrom<ActivityBody> for ActivityEvent {
    type Error = ApiError;

    fn try_from(b: ActivityBody) -> Result<Self, ApiError> {
        Ok(Self {
            occurred_at: parse_instant("occurred_at", &b.occurred_at)?,
            kind: b.kind,
            event_id: b.event_id,
        })
    }
}

/// `PUT /api/v1/mentors/{user_id}/certifications/{certification_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationBody {
    /// Name.
    pub name: String,
    /// RFC 3339.
    pub expires_at: String,
    /// RFC 3339.
    pub issued_at: Option<String>,
    /// Default false.
    pub required: Option<bool>,
}

impl CertificationBody {
    /// The domain certification.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] for malformed timestamps.
    pub fn into_certification(self, certification_id: String) -> Result<Certification, ApiError> {
        Ok(Certification {
            certification_id,
            name: self.name,
            issued_at: parse_opt_instant("issued_at", self.issued_at.as_deref())?,
            expires_at: parse_instant("expires_at", &self.expires_at)?,
            required: self.required.unwrap_or(false),
        })
    }
}

/// A certification with its mentor, as `PUT` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct MentorCertificationDto {
    /// The mentor.
    pub user_id: String,
    /// The certification.
    #[serde(flatten)]
    pub certification: CertificationDto,
}

/// `PUT /api/v1/mentors/{user_id}/preferences`; omitted switches keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// Inactivity reminders.
    pub inactivity: Option<bool>,
    /// Milestone congratulations.
    pub milestone: Option<bool>,
    /// Certification expiry reminders.
    pub certification_expiry: Option<bool>,
    /// Master switch.
    pub all: Option<bool>,
}

impl From<PreferencesBody> for PreferencesPatch {
    fn from(b: PreferencesBody) -> Self {
        Self {
            all: b.all,
            inactivity: b.inactivity,
            milestone: b.milestone,
            certification_expiry: b.certification_expiry,
        }
    }
}

/// `POST /api/v1/mentors/{user_id}/pause`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// `requested` or `admin`.
    pub reason: String,
    /// RFC 3339, in the future.
    pub until: Option<String>,
}

impl PauseBody {
    /// The domain reason and end.
    ///
    /// # Errors
    /// [`ApiError::UnknownName`] or [`ApiError::Invalid`].
    pub fn parse(&self) -> Result<(PauseReason, Option<chrono::DateTime<chrono::Utc>>), ApiError> {
        Ok((
            PauseReason::parse(&self.reason)?,
            parse_opt_instant("until", self.until.as_deref())?,
        ))
    }
}

/// `DELETE /api/v1/mentors/{user_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MentorDeleted {
    /// Always true.
    pub deleted: bool,
    /// The mentor.
    pub user_id: String,
}

/// `DELETE .../certifications/{certification_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationDeleted {
    /// Always true.
    pub deleted: bool,
    /// The mentor.
    pub user_id: String,
    /// The certification.
    pub certification_id: String,
}

/// One line of `POST /api/v1/mentors/import` (NDJSON): the body of
/// `PUT /api/v1/mentors/{user_id}` plus `user_id`, and optionally the
/// certifications to create or replace and the preference switches to change.
//
// The fields of `MentorBody` (and of `CertificationBody` below) are repeated,
// not `#[serde(flatten)]`ed: serde cannot combine flatten with
// `deny_unknown_fields`, and every line must refuse unknown fields. The
// struct literals in `TryFrom` name every field of those bodies, so a field
// added there does not compile until it is added here too.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportLineBody {
    /// Platform user id.
    pub user_id: String,
    /// Organisation; required when the mentor is new.
    pub org_id: Option<String>,
    /// `active` or `inactive`; leave it out for paused mentors.
    pub status: Option<String>,
    /// RFC 3339.
    pub last_active_at: Option<String>,
    /// 0 or more.
    pub sessions_count: Option<i64>,
    /// RFC 3339.
    pub first_session_at: Option<String>,
    /// RFC 3339; used only when the mentor is new (default: now).
    pub created_at: Option<String>,
    /// Certifications created or replaced; the mentor's others stay.
    pub certifications: Option<Vec<ImportCertificationBody>>,
    /// Switches to change; the others keep their value.
    pub preferences: Option<PreferencesBody>,
}

/// A certification in an import line: the body of
/// `PUT .../certifications/{certification_id}` plus `certification_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportCertificationBody {
    /// Platform certification id.
    pub certification_id: String,
    /// Name.
    pub name: String,
    /// RFC 3339.
    pub expires_at: String,
    /// RFC 3339.
    pub issued_at: Option<String>,
    /// Default false.
    pub required: Option<bool>,
}

impl TryFrom<ImportLineBody> for MentorImport {
    type Error = ApiError;

    /// The same conversions as the single-mentor bodies: a line is exactly
    /// a mentor `PUT`, certification `PUT`s and a preferences `PUT`.
    fn try_from(b: ImportLineBody) -> Result<Self, ApiError> {
        let upsert = MentorUpsert::try_from(MentorBody {
            org_id: b.org_id,
            status: b.status,
            last_active_at: b.last_active_at,
            sessions_count: b.sessions_count,
            first_session_at: b.first_session_at,
            created_at: b.created_at,
        })?;
        let certifications = b
            .certifications
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                CertificationBody {
                    name: c.name,
                    expires_at: c.expires_at,
                    issued_at: c.issued_at,
                    required: c.required,
                }
                .into_certification(c.certification_id)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            user_id: b.user_id,
            upsert,
            certifications,
            preferences: b
                .preferences
                .map(PreferencesPatch::from)
                .unwrap_or_default(),
        })
    }
}

/// `POST /api/v1/mentors/import`: what was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummaryDto {
    /// Mentors imported: `created` plus `updated`.
    pub imported: u64,
    /// Mentors that were new.
    pub created: u64,
    /// Mentors that existed and were updated.
    pub updated: u64,
}

impl From<ImportCounts> for ImportSummaryDto {
    fn from(c: ImportCounts) -> Self {
        Self {
            imported: c.imported(),
            created: c.created,
            updated: c.updated,
        }
    }
}
