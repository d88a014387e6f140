//! The mentor port: what [`MentorService`](crate::service::MentorService)
//! and the import need from storage, and the changes they hand it; an
//! import reaches storage as an [`ImportFeed`] of checked lines.

use chrono::{DateTime, Utc};

use super::store::{MaybeMentor, PageRequest, Paged, StoreError};
use crate::rules::{Certification, Mentor, MentorStatus, Pause, Preferences};

/// A mentor with the records the API shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentorRecord {
    /// The mentor.
    pub mentor: Mentor,
    /// Certifications, ordered by `certification_id`.
    pub certifications: Vec<Certification>,
    /// Notification switches.
    pub preferences: Preferences,
}

/// Filters of the mentor list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentorFilter {
    /// Only this organisation.
    pub org_id: Option<String>,
    /// Only this status.
    pub status: Option<MentorStatus>,
}

/// A validated create-or-update of a mentor; `None` keeps the current value
/// (or takes the default on create).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentorUpsert {
    /// Organisation; required on create.
    pub org_id: Option<String>,
    /// `Active` or `Inactive` (pauses go through their own calls).
    pub status: Option<MentorStatus>,
    /// Last activity.
    pub last_active_at: Option<DateTime<Utc>>,
    /// Completed sessions.
    pub sessions_count: Option<u32>,
    /// First completed session.
    pub first_session_at: Option<DateTime<Utc>>,
    /// When the mentor was first seen (create only; default now).
    pub created_at: Option<DateTime<Utc>>,
}

impl MentorUpsert {
    /// The mentor after this upsert at `now`: `existing` with the given
    /// fields changed (`created_at` is kept, the pause too), or a new mentor
    /// with the defaults (status active, no pause, 0 sessions, `created_at`
    /// now); `None` for a create without `org_id`.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::rules::MentorStatus;
    /// use scenario_engine::service::MentorUpsert;
    /// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    /// let create = MentorUpsert { org_id: Some("org_oslo_01".into()), ..MentorUpsert::default() };
    /// let created = create.apply("usr_mentor_7821", None, now).unwrap();
    /// assert_eq!((created.status, created.sessions_count, created.created_at), (MentorStatus::Active, 0, now));
    /// let later = now + chrono::TimeDelta::days(1);
    /// let update = MentorUpsert { sessions_count: Some(3), ..MentorUpsert::default() };
    /// let updated = update.apply("usr_mentor_7821", Some(&created), later).unwrap();
    /// assert_eq!((updated.org_id.as_str(), updated.sessions_count), ("org_oslo_01", 3));
    /// assert_eq!((updated.created_at, updated.updated_at), (now, later));
    /// assert!(MentorUpsert::default().apply("usr_new", None, now).is_none());
    /// ```
    pub fn apply(
        &self,
        user_id: &str,
        existing: Option<&Mentor>,
        now: DateTime<Utc>,
    ) -> Option<Mentor> {
        let Some(m) = existing else {
            return Some(Mentor {
                user_id: user_id.to_owned(),
                org_id: self.org_id.clone()?,
                status: self.status.unwrap_or(MentorStatus::Active),
                pause: None,
                last_active_at: self.last_active_at,
                sessions_count: self.sessions_count.unwrap_or(0),
                first_session_at: self.first_session_at,
                created_at: self.created_at.unwrap_or(now),
                updated_at: now,
            });
        };
        Some(Mentor {
            org_id: self.org_id.clone().unwrap_or_else(|| m.org_id.clone()),
            status: self.status.unwrap_or(m.status),
            last_active_at: self.last_active_at.or(m.last_active_at),
            sessions_count: self.sessions_count.unwrap_or(m.sessions_count),
            first_session_at: self.first_session_at.or(m.first_session_at),
            updated_at: now,
            ..m.clone()
        })
    }
}

/// A validated change of notification switches; `None` keeps the value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreferencesPatch {
    /// Master switch.
    pub all: Option<bool>,
    /// Inactivity reminders.
    pub inactivity: Option<bool>,
    /// Milestone congratulations.
    pub milestone: Option<bool>,
    /// Certification expiry reminders.
    pub certification_expiry: Option<bool>,
}

impl PreferencesPatch {
    /// `current` with this patch applied.
    pub fn apply(&self, current: Preferences) -> Preferences {
        Preferences {
            all: self.all.unwrap_or(current.all),
            inactivity: self.inactivity.unwrap_or(current.inactivity),
            milestone: self.milestone.unwrap_or(current.milestone),
            certification_expiry: self
                .certification_expiry
                .unwrap_or(current.certification_expiry),
        }
    }
}

/// An activity event of a mentor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEvent {
    /// Idempotency key given by the platform.
    pub event_id: Option<String>,
    /// Any kind; `session_completed` also counts a session.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// The kind that counts a session.
pub const SESSION_COMPLETED: &str = "session_completed";

/// What became of an activity event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityOutcome {
    /// First delivery: applied.
    Recorded(MentorRecord),
    /// The same `event_id` with the same body was applied before: nothing changed.
    Replayed(MentorRecord),
    /// The same `event_id` came before with a different body: nothing changed.
    Conflict,
}

/// Where mentors and their certifications, preferences and pauses live.
pub trait MentorRepository: Send + Sync {
    /// One mentor with certifications and preferences.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn get_mentor(&self, user_id: &str) -> MaybeMentor<MentorRecord>;

    /// A page of mentors ordered by `user_id`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn list_mentors(
        &self,
        filter: &MentorFilter,
        page: PageRequest,
    ) -> Result<Paged<MentorRecord>, StoreError>;

    /// Up to `limit` mentors whose `user_id` sorts after `after` (from the
    /// first when `None`), in `user_id` order (bytewise), only those with
    /// `status` when given: a keyset page, so that jobs stream every mentor
    /// batch by batch without loading them all.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn mentors_after(
        &self,
        after: Option<&str>,
        status: Option<MentorStatus>,
        limit: u32,
    ) -> Result<Vec<MentorRecord>, StoreError>;

    /// Creates the mentor (defaults: status active, no pause, 0 sessions,
    /// `created_at` now) or updates the given fields. Returns the record and
    /// whether it was created. Must never delete and re-insert the row.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails, including a create without `org_id`.
    fn upsert_mentor(
        &self,
        user_id: &str,
        upsert: &MentorUpsert,
        now: DateTime<Utc>,
    ) -> Result<(MentorRecord, bool), StoreError>;

    /// Erases the mentor and every record about them (certifications,
    /// events, milestones, evaluations, notifications, dedupe keys, batch rows).
    /// Returns whether the mentor existed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn delete_mentor(&self, user_id: &str) -> Result<bool, StoreError>;

    /// Applies an activity event atomically: `last_active_at` moves forward
    /// only; `session_completed` adds one session, sets `first_session_at`
    /// when unset (or later than the event), and records the count milestone
    /// (1, 10, 50) the event reached with the event's `occurred_at`. An
    /// `event_id` seen before Must give `Replayed` (same kind and
    /// `occurred_at`) or `Conflict` (different), changing nothing.
    /// `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn record_activity(
        &self,
        user_id: &str,
        event: &ActivityEvent,
        now: DateTime<Utc>,
    ) -> MaybeMentor<ActivityOutcome>;

    /// Creates or replaces a certification; returns whether it was created.
    /// Never changes a pause. `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn put_certification(
        &self,
        user_id: &str,
        cert: &Certification,
        now: DateTime<Utc>,
    ) -> MaybeMentor<bool>;

    /// Deletes a certification; `Some(false)` when the mentor exists but the
    /// certification does not, `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn delete_certification(&self, user_id: &str, certification_id: &str) -> MaybeMentor<bool>;

    /// Retention: deletes at most `limit` activity events recorded before
    /// `before`, in one transaction, and returns how many went (fewer than
    /// `limit`: none is left). The mentors they moved stay as they are; an
    /// `event_id` pruned is new again if it is ever sent again.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails; nothing is deleted then.
    fn prune_activity_events_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;

    /// Applies a preference patch; returns the new preferences, `None` when
    /// the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn set_preferences(
        &self,
        user_id: &str,
        patch: &PreferencesPatch,
        now: DateTime<Utc>,
    ) -> MaybeMentor<Preferences>;

    /// Sets the mentor's status and pause together (`Paused` with a pause,
    /// or another status with none). `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn set_status(
        &self,
        user_id: &str,
        status: MentorStatus,
        pause: Option<&Pause>,
        now: DateTime<Utc>,
    ) -> MaybeMentor<MentorRecord>;

    /// Imports mentors in ONE transaction. Pulls chunks from `feed` until
    /// it gives an empty one; for each chunk reads the mentors it names,
    /// lets [`ImportFeed::admit`] check the chunk against them, and, while
    /// [`ImportFeed::failed`] is false, writes it: each mentor as
    /// [`MentorUpsert::apply`] and [`PreferencesPatch::apply`] make it (the
    /// pause is kept), each listed certification created or replaced;
    /// certifications not listed, activity, milestones, evaluations and
    /// notifications are left alone. Must never delete and re-insert a row.
    /// Must keep pulling and admitting after a failure, writing nothing
    /// more, so that every line is checked; and Must then roll the whole
    /// import back and return `None`. Chunks must be written with a fixed
    /// number of statements, not one per mentor.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails, writing nothing.
    fn import_mentors(
        &self,
        feed: &mut dyn ImportFeed,
        now: DateTime<Utc>,
    ) -> Result<Option<ImportCounts>, StoreError>;
}

/// One mentor of an import: the upsert of
/// [`MentorService::upsert`](crate::service::MentorService::upsert), the
/// certifications to create or replace (others stay), and a preference
/// patch (omitted switches stay).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentorImport {
    /// The mentor.
    pub user_id: String,
    /// The mentor's fields; `org_id` is required when the mentor is new.
    pub upsert: MentorUpsert,
    /// Certifications created or replaced; each id at most once.
    pub certifications: Vec<Certification>,
    /// Notification switches to change.
    pub preferences: PreferencesPatch,
}

/// A line of an import that passed every check needing no storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    /// Its line number, from 1.
    pub line: u64,
    /// The mentor it imports.
    pub mentor: MentorImport,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Mentors that did not exist before.
    pub created: u64,
    /// Mentors that existed and were updated.
    pub updated: u64,
}

impl ImportCounts {
    /// Every mentor imported: created plus updated.
    pub const fn imported(&self) -> u64 {
        self.created + self.updated
    }
}

/// What [`MentorRepository::import_mentors`] pulls an import from, inside
/// its transaction. Implemented by the import itself; storage only asks.
pub trait ImportFeed {
    /// The next lines to write, at most `max`, in file order; empty at the end.
    fn next_chunk(&mut self, max: usize) -> Vec<ImportLine>;

    /// Checks `chunk` against the mentors it would update: `existing[i]` is
    /// the stored mentor of `chunk[i]`, `None` when the line creates one.
    /// Lines that fail are recorded, and [`ImportFeed::failed`] turns true.
    fn admit(&mut self, chunk: &[ImportLine], existing: &[Option<&Mentor>]);

    /// Whether any line has failed (or the source broke): from then on
    /// storage writes nothing, and rolls back at the end.
    fn failed(&self) -> bool;
}
