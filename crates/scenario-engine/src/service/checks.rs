//! The checks of mentor data that need no storage, shared by
//! [`MentorService`](crate::service::MentorService) and the import, and
//! [`MentorError`], why a mentor operation was refused.

use super::ids::{InvalidId, validate_platform_id};
use super::mentor_repo::MentorUpsert;
use super::store::StoreError;
use crate::rules::{Certification, Mentor, MentorStatus, PauseReason, truncate_to_seconds};

/// Why a mentor operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum MentorError {
    /// No mentor with this id.
    #[error("mentor `{0}` not found")]
    NotFound(String),
    /// No such certification on an existing mentor.
    #[error("certification `{certification_id}` of mentor `{user_id}` not found")]
    CertificationNotFound {
        /// The mentor.
        user_id: String,
        /// The certification.
        certification_id: String,
    },
    /// A platform id is malformed.
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    /// A field required here is missing (for example `org_id` on create).
    #[error("{0} is required")]
    MissingField(&'static str),
    /// A well-typed value that is not allowed here.
    #[error("{field}: {message}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The mentor is paused; status changes go through the pause calls.
    #[error("mentor `{user_id}` is paused ({})", reason.as_str())]
    MentorPaused {
        /// The mentor.
        user_id: String,
        /// The pause's reason.
        reason: PauseReason,
    },
    /// A `certification_expired` pause is lifted only by the auto-lift job.
    #[error(
        "mentor `{0}` is paused because a required certification expired; renew it and the auto-lift job lifts the pause"
    )]
    PauseHeldByExpiry(String),
    /// The `event_id` was used before with a different body.
    #[error("event `{0}` was already recorded with a different body")]
    ActivityConflict(String),
    /// An import names the mentor on an earlier line already; each mentor
    /// comes once per import, so that no line silently overrides another.
    #[error("mentor `{user_id}` is already imported by line {first_line}")]
    DuplicateUserId {
        /// The mentor.
        user_id: String,
        /// The line that names them first.
        first_line: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The checks of a mentor upsert that need no storage: the ids, and a
/// status other than `paused`; instants truncated to whole seconds. Shared
/// by [`MentorService::upsert`] and the import.
pub(crate) fn checked_upsert(
    user_id: &str,
    upsert: MentorUpsert,
) -> Result<MentorUpsert, MentorError> {
    validate_platform_id("user_id", user_id)?;
    if let Some(org) = &upsert.org_id {
        validate_platform_id("org_id", org)?;
    }
    if upsert.status == Some(MentorStatus::Paused) {
        return Err(MentorError::InvalidValue {
            field: "status",
            message: "must be `active` or `inactive`; pause a mentor through the pause operation"
                .into(),
        });
    }
    Ok(MentorUpsert {
        last_active_at: upsert.last_active_at.map(truncate_to_seconds),
        first_session_at: upsert.first_session_at.map(truncate_to_seconds),
        created_at: upsert.created_at.map(truncate_to_seconds),
        ..upsert
    })
}

/// The checks of a mentor upsert against the mentor it would change
/// (`None`: it would create one): a create needs `org_id`, and a paused
/// mentor's status changes only through the pause calls.
pub(crate) fn upsert_conflict(
    user_id: &str,
    upsert: &MentorUpsert,
    existing: Option<&Mentor>,
) -> Result<(), MentorError> {
    match existing {
        None if upsert.org_id.is_none() => Err(MentorError::MissingField("org_id")),
        Some(existing) => match (&existing.pause, upsert.status) {
            (Some(pause), Some(status)) if existing.status != status => {
                Err(MentorError::MentorPaused {
                    user_id: user_id.to_owned(),
                    reason: pause.reason,
                })
            }
            _ => Ok(()),
        },
        None => Ok(()),
    }
}

/// The checks of a certification that need no storage: its id, and a name
/// of 1-256 characters without control characters; instants truncated to
/// whole seconds. Shared by [`MentorService::put_certification`] and the import.
pub(crate) fn checked_certification(cert: Certification) -> Result<Certification, MentorError> {
    validate_platform_id("certification_id", &cert.certification_id)?;
    let name_len = cert.name.chars().count();
    if name_len == 0 || name_len > 256 || cert.name.chars().any(char::is_control) {
        return Err(MentorError::InvalidValue {
            field: "name",
            message: "must be 1-256 characters without control characters".into(),
        });
    }
    Ok(Certification {
        issued_at: cert.issued_at.map(truncate_to_seconds),
        expires_at: truncate_to_seconds(cert.expires_at),
        ..cert
    })
}
