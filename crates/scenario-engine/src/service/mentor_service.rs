//! [`MentorService`]: mentor data (upserts, imports, activity,
//! certifications, preferences and pauses) over the mentor port.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::checks::{MentorError, checked_certification, checked_upsert, upsert_conflict};
use super::clock::Clock;
use super::ids::{lookup_id, validate_platform_id};
use super::import::{ImportOutcome, ImportSource};
use super::mentor_repo::{
    ActivityEvent, ActivityOutcome, MentorFilter, MentorRecord, MentorRepository, MentorUpsert,
    PreferencesPatch,
};
use super::store::{PageRequest, Paged};
use crate::rules::{
    Certification, MentorStatus, Pause, PauseReason, Preferences, truncate_to_seconds,
};

/// Whether an activity event was new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityResult {
    /// The mentor after the event.
    pub record: MentorRecord,
    /// `false` for a replay of an event seen before.
    pub created: bool,
}

/// Mentor data: upserts, activity, certifications, preferences and pauses.
#[derive(Clone)]
pub struct MentorService {
    repo: Arc<dyn MentorRepository>,
    clock: Arc<dyn Clock>,
}

/// The store and the clock are trait objects, so they show as `..`.
impl std::fmt::Debug for MentorService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MentorService").finish_non_exhaustive()
    }
}

impl MentorService {
    /// A service over `repo`, reading time from `clock`.
    pub fn new(repo: Arc<dyn MentorRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, clock }
    }

    fn now(&self) -> DateTime<Utc> {
        truncate_to_seconds(self.clock.now())
    }

    fn known(&self, user_id: &str) -> Result<(), MentorError> {
        if lookup_id(user_id) {
            Ok(())
        } else {
            Err(MentorError::NotFound(user_id.to_owned()))
        }
    }

    /// Creates or updates a mentor; returns the record and whether it was created.
    ///
    /// # Errors
    /// [`MentorError::MissingField`] for a create without `org_id`,
    /// [`MentorError::InvalidValue`] for a `paused` status,
    /// [`MentorError::MentorPaused`] for a status change of a paused mentor,
    /// [`MentorError::InvalidId`] for malformed ids.
    pub fn upsert(
        &self,
        user_id: &str,
        upsert: MentorUpsert,
    ) -> Result<(MentorRecord, bool), MentorError> {
        let upsert = checked_upsert(user_id, upsert)?;
        let existing = self.repo.get_mentor(user_id)?;
        upsert_conflict(user_id, &upsert, existing.as_ref().map(|r| &r.mentor))?;
        Ok(self.repo.upsert_mentor(user_id, &upsert, self.now())?)
    }

    /// Imports many mentors in one transaction, all or nothing: each line
    /// is checked as [`MentorService::upsert`],
    /// [`MentorService::put_certification`] and
    /// [`MentorService::set_preferences`] check theirs, a mentor named twice
    /// fails the later line ([`MentorError::DuplicateUserId`]), and any bad
    /// line leaves storage untouched and is reported with its number.
    ///
    /// The source is read twice: once to check every line without storage
    /// (remembering each id as a 64-bit fingerprint, so memory grows by
    /// about 20 bytes per line, never with the size of the lines), then chunk by chunk inside
    /// [`MentorRepository::import_mentors`]'s one transaction, where lines
    /// are checked against the mentors they update. A suspected duplicate
    /// (a fingerprint seen twice) costs one more read to confirm it. At most
    /// [`MAX_REPORTED_LINES`](crate::service::MAX_REPORTED_LINES) errors are kept,
    /// the first by line number, with a count of all.
    ///
    /// # Errors
    /// The source's error when it cannot be read, or a [`MentorError::Store`]
    /// (converted) when storage fails; bad lines are an
    /// [`ImportOutcome::Rejected`], not an error.
    pub fn import<S: ImportSource + ?Sized>(
        &self,
        source: &mut S,
    ) -> Result<ImportOutcome<S::Error>, S::Error> {
        super::import::run(&*self.repo, source, self.now())
    }

    /// One mentor.
    ///
    /// # Errors
    /// [`MentorError::NotFound`].
    pub fn get(&self, user_id: &str) -> Result<MentorRecord, MentorError> {
        self.known(user_id)?;
        self.repo
            .get_mentor(user_id)?
            .ok_or_else(|| MentorError::NotFound(user_id.to_owned()))
    }

    /// A page of mentors ordered by `user_id`.
    ///
    /// # Errors
    /// [`MentorError::Store`] when storage fails.
    pub fn list(
        &self,
        filter: &MentorFilter,
        page: PageRequest,
    ) -> Result<Paged<MentorRecord>, MentorError> {
        Ok(self.repo.list_mentors(filter, page)?)
    }

    /// Erases a mentor and every record about them.
    ///
    /// # Errors
    /// [`MentorError::NotFound`].
    pub fn delete(&self, user_id: &str) -> Result<(), MentorError> {
        self.known(user_id)?;
        if self.repo.delete_mentor(user_id)? {
            Ok(())
        } else {
            Err(MentorError::NotFound(user_id.to_owned()))
        }
    }

    /// Applies an activity event (idempotent by `event_id`).
    ///
    /// # Errors
    /// [`MentorError::NotFound`], [`MentorError::ActivityConflict`] for a
    /// reused `event_id`, [`MentorError::InvalidValue`] for a `kind` outside
    /// 1-64 characters.
    pub fn record_activity(
        &self,
        user_id: &str,
        event: ActivityEvent,
    ) -> Result<ActivityResult, MentorError> {
        self.known(user_id)?;
        let kind_len = event.kind.chars().count();
        if kind_len == 0 || kind_len > 64 || event.kind.chars().any(char::is_control) {
            return Err(MentorError::InvalidValue {
                field: "kind",
                message: "must be 1-64 characters without control characters".into(),
            });
        }
        if let Some(id) = &event.event_id {
            validate_platform_id("event_id", id)?;
        }
        let event = ActivityEvent {
            occurred_at: truncate_to_seconds(event.occurred_at),
            ..event
        };
        match self.repo.record_activity(user_id, &event, self.now())? {
            None => Err(MentorError::NotFound(user_id.to_owned())),
            Some(ActivityOutcome::Recorded(record)) => Ok(ActivityResult {
                record,
                created: true,
            }),
            Some(ActivityOutcome::Replayed(record)) => Ok(ActivityResult {
                record,
                created: false,
            }),
            Some(ActivityOutcome::Conflict) => Err(MentorError::ActivityConflict(
                event.event_id.unwrap_or_default(),
            )),
        }
    }

    /// Creates or replaces a certification; returns the mentor and whether
    /// the certification was created.
    ///
    /// # Errors
    /// [`MentorError::NotFound`], [`MentorError::InvalidId`],
    /// [`MentorError::InvalidValue`] for an empty name.
    pub fn put_certification(
        &self,
        user_id: &str,
        cert: Certification,
    ) -> Result<(MentorRecord, bool), MentorError> {
        self.known(user_id)?;
        let cert = checked_certification(cert)?;
        let created = self
            .repo
            .put_certification(user_id, &cert, self.now())?
            .ok_or_else(|| MentorError::NotFound(user_id.to_owned()))?;
        Ok((self.get(user_id)?, created))
    }

    /// Deletes a certification.
    ///
    /// # Errors
    /// [`MentorError::NotFound`] or [`MentorError::CertificationNotFound`].
    pub fn delete_certification(
        &self,
        user_id: &str,
        certification_id: &str,
    ) -> Result<(), MentorError> {
        self.known(user_id)?;
        if !lookup_id(certification_id) {
            return Err(MentorError::CertificationNotFound {
                user_id: user_id.to_owned(),
                certification_id: certification_id.to_owned(),
            });
        }
        match self.repo.delete_certification(user_id, certification_id)? {
            None => Err(MentorError::NotFound(user_id.to_owned())),
            Some(false) => Err(MentorError::CertificationNotFound {
                user_id: user_id.to_owned(),
                certification_id: certification_id.to_owned(),
            }),
            Some(true) => Ok(()),
        }
    }

    /// Changes notification switches.
    ///
    /// # Errors
    /// [`MentorError::NotFound`].
    pub fn set_preferences(
        &self,
        user_id: &str,
        patch: PreferencesPatch,
    ) -> Result<Preferences, MentorError> {
        self.known(user_id)?;
        self.repo
            .set_preferences(user_id, &patch, self.now())?
            .ok_or_else(|| MentorError::NotFound(user_id.to_owned()))
    }

    /// Pauses a mentor at their own request or a coordinator's.
    ///
    /// # Errors
    /// [`MentorError::InvalidValue`] for `certification_expired` (made only
    /// by the expiry job) or an `until` not in the future;
    /// [`MentorError::PauseHeldByExpiry`] when a `certification_expired`
    /// pause is in place; [`MentorError::NotFound`].
    pub fn pause(
        &self,
        user_id: &str,
        reason: PauseReason,
        until: Option<DateTime<Utc>>,
    ) -> Result<MentorRecord, MentorError> {
        self.known(user_id)?;
        let now = self.now();
        if reason == PauseReason::CertificationExpired {
            return Err(MentorError::InvalidValue {
                field: "reason",
                message: "must be `requested` or `admin`; `certification_expired` pauses are made by the expiry job"
                    .into(),
            });
        }
        let until = until.map(truncate_to_seconds);
        if until.is_some_and(|u| u <= now) {
            return Err(MentorError::InvalidValue {
                field: "until",
                message: "must be in the future".into(),
            });
        }
        let existing = self.get(user_id)?;
        if existing
            .mentor
            .pause
            .as_ref()
            .is_some_and(|p| p.reason == PauseReason::CertificationExpired)
        {
            return Err(MentorError::PauseHeldByExpiry(user_id.to_owned()));
        }
        let since = existing.mentor.pause.as_ref().map_or(now, |p| p.since);
        let pause = Pause {
            reason,
            since,
            until,
        };
        self.repo
            .set_status(user_id, MentorStatus::Paused, Some(&pause), now)?
            .ok_or_else(|| MentorError::NotFound(user_id.to_owned()))
    }

    /// Lifts a `requested` or `admin` pause; a mentor who is not paused is
    /// returned unchanged.
    ///
    /// # Errors
    /// [`MentorError::PauseHeldByExpiry`] for a `certification_expired`
    /// pause; [`MentorError::NotFound`].
    pub fn lift_pause(&self, user_id: &str) -> Result<MentorRecord, MentorError> {
        self.known(user_id)?;
        let existing = self.get(user_id)?;
        match &existing.mentor.pause {
            None => Ok(existing),
            Some(p) if p.reason == PauseReason::CertificationExpired => {
                Err(MentorError::PauseHeldByExpiry(user_id.to_owned()))
            }
            Some(_) => self
                .repo
                .set_status(user_id, MentorStatus::Active, None, self.now())?
                .ok_or_else(|| MentorError::NotFound(user_id.to_owned())),
        }
    }
}
