//! The services the API (and embedders with their own storage) call: they
//! validate, decide with [`evaluate`](crate::evaluate), and persist through
//! the ports of [`repo`](crate::repo).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, truncate_to_seconds};
use crate::decision::{Decision, Metadata, ReasonCode};
use crate::evaluate::evaluate;
use crate::ids::{IdSource, InvalidId, validate_platform_id};
use crate::import::{ImportOutcome, ImportSource};
use crate::mentor::{Certification, Mentor, MentorStatus, Pause, PauseReason, Preferences};
use crate::repo::{
    ActivityEvent, ActivityOutcome, EvaluationFilter, EvaluationOverride, EvaluationRecord,
    EvaluationRepository, MentorFilter, MentorRecord, MentorRepository, MentorUpsert,
    NewNotification, PageRequest, Paged, PreferencesPatch, StoreError, Subject,
};
use crate::rules::Rules;
use crate::scenario::{MilestoneType, Scenario, ScenarioType};
use crate::snapshot::MentorSnapshot;

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

/// Whether an activity event was new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityResult {
    /// The mentor after the event.
    pub record: MentorRecord,
    /// `false` for a replay of an event seen before.
    pub created: bool,
}

/// An id that fails [`validate_platform_id`] cannot exist, so a lookup by it
/// is "not found" without asking storage (which may refuse such bytes:
/// PostgreSQL text cannot hold NUL).
pub(crate) fn lookup_id(value: &str) -> bool {
    validate_platform_id("id", value).is_ok()
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

/// Mentor data: upserts, activity, certifications, preferences and pauses.
#[derive(Clone)]
pub struct MentorService {
    repo: Arc<dyn MentorRepository>,
    clock: Arc<dyn Clock>,
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
    /// [`MAX_REPORTED_LINES`](crate::MAX_REPORTED_LINES) errors are kept,
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
        crate::import::run(&*self.repo, source, self.now())
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

/// Why an evaluation operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    /// The mentor to evaluate does not exist.
    #[error("mentor `{0}` not found")]
    UnknownUser(String),
    /// No evaluation with this id.
    #[error("evaluation `{0}` not found")]
    NotFound(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One evaluation to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluateRequest {
    /// The mentor.
    pub user_id: String,
    /// The scenario and its parameters.
    pub scenario: Scenario,
    /// Record with `dry_run: true` and enqueue nothing.
    pub dry_run: bool,
    /// The run this evaluation belongs to.
    pub run_id: Option<String>,
}

/// The read-only answer of "should this mentor be notified now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShouldNotify {
    /// The mentor.
    pub user_id: String,
    /// The scenario.
    pub scenario_type: ScenarioType,
    /// The decision.
    pub should_notify: bool,
    /// Whether the cooldown is satisfied.
    pub cooldown_satisfied: bool,
    /// Whether preferences allow it.
    pub preference_enabled: bool,
    /// When it was decided.
    pub evaluated_at: DateTime<Utc>,
    /// The sentence.
    pub reason: String,
    /// The machine code.
    pub reason_code: ReasonCode,
}

/// Evaluations: decide, record, enqueue, and manage the records.
#[derive(Clone)]
pub struct EvaluationService {
    repo: Arc<dyn EvaluationRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    rules: Rules,
}

/// The borrowed snapshot of a loaded subject, as [`evaluate`] reads it.
pub fn snapshot<'a>(subject: &'a Subject) -> MentorSnapshot<'a> {
    let m = &subject.record.mentor;
    MentorSnapshot {
        user_id: &m.user_id,
        status: m.status,
        created_at: m.created_at,
        last_active_at: m.last_active_at,
        sessions_count: m.sessions_count,
        first_session_at: m.first_session_at,
        milestones_achieved_at: subject.milestones_achieved_at,
        certifications: &subject.record.certifications,
        preferences: subject.record.preferences,
        history: &subject.history,
    }
}

/// The payload a sink delivers for a notification (its wire format: SPEC
/// section 15).
fn notification_payload(id: &str, org_id: &str, record: &EvaluationRecord) -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "notification_id": id,
        "user_id": record.user_id,
        "org_id": org_id,
        "scenario_type": record.scenario_type.as_str(),
        "reason_code": record.reason_code,
        "reason": record.reason,
        "metadata": record.evaluation_metadata,
        "created_at": crate::format_instant(record.evaluated_at),
    })
}

/// Whom a decision is recorded for, and how.
pub(crate) struct Target<'a> {
    pub user_id: &'a str,
    pub org_id: &'a str,
    pub run_id: Option<&'a str>,
    pub batch_index: Option<i64>,
    pub dry_run: bool,
}

/// A decision rendered for storage: the evaluation, its notification when
/// it fired and is not a dry run, and a milestone time it saw first.
pub(crate) struct Rendered {
    pub record: EvaluationRecord,
    pub notification: Option<NewNotification>,
    pub milestone_seen: Option<(MilestoneType, DateTime<Utc>)>,
}

/// The evaluation record of `decision` (a fresh `trg_` id carrying `now`,
/// [`IdSource::id_at`]).
pub(crate) fn evaluation_record(
    ids: &dyn IdSource,
    target: &Target<'_>,
    decision: &Decision<'_>,
    now: DateTime<Utc>,
) -> EvaluationRecord {
    EvaluationRecord {
        id: ids.id_at(crate::EVALUATION_ID_PREFIX, now),
        user_id: target.user_id.to_owned(),
        scenario_type: decision.scenario_type,
        should_notify: decision.should_notify,
        evaluated_at: now,
        evaluation_metadata: decision.metadata_json(),
        reason: decision.reason_sentence(),
        reason_code: decision.reason_code.as_str().to_owned(),
        run_id: target.run_id.map(str::to_owned),
        batch_index: target.batch_index,
        dry_run: target.dry_run,
    }
}

/// `decision` as it stands when its once-only key was taken meanwhile.
pub(crate) fn already_notified(decision: Decision<'_>) -> Decision<'_> {
    Decision {
        should_notify: false,
        reason_code: ReasonCode::AlreadyNotified,
        ..decision
    }
}

/// Renders a decision the way every path records it (single evaluations,
/// runs, batches): the same record, payload and dedupe key.
pub(crate) fn render(
    ids: &dyn IdSource,
    target: &Target<'_>,
    decision: &Decision<'_>,
    now: DateTime<Utc>,
) -> Rendered {
    let record = evaluation_record(ids, target, decision, now);
    let milestone_seen = match decision.metadata {
        Metadata::Milestone {
            milestone_type,
            achieved_at: Some(at),
            newly_achieved: true,
            ..
        } if !target.dry_run => Some((milestone_type, at)),
        _ => None,
    };
    let notification = match (
        decision.should_notify && !target.dry_run,
        decision.dedupe_key,
    ) {
        (true, Some(key)) => {
            let id = ids.id_at(crate::NOTIFICATION_ID_PREFIX, now);
            let payload = notification_payload(&id, target.org_id, &record);
            Some(NewNotification {
                id,
                user_id: record.user_id.clone(),
                org_id: target.org_id.to_owned(),
                scenario_type: record.scenario_type,
                dedupe_key: key.render(&record.user_id),
                payload,
                created_at: now,
                run_id: record.run_id.clone(),
                evaluation_id: Some(record.id.clone()),
            })
        }
        _ => None,
    };
    Rendered {
        record,
        notification,
        milestone_seen,
    }
}

impl EvaluationService {
    /// A service over `repo` with the given rules.
    pub fn new(
        repo: Arc<dyn EvaluationRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        rules: Rules,
    ) -> Self {
        Self {
            repo,
            clock,
            ids,
            rules,
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The same service (store, clock, ids) under other rules: a job's own
    /// evaluation time zone, for example (SPEC section 15,
    /// `params.evaluation_timezone`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use scenario_engine::{EvaluationService, FixedClock, InMemoryStore, Rules, UlidIds};
    /// # use chrono::Utc;
    /// let service = EvaluationService::new(
    ///     Arc::new(InMemoryStore::default()),
    ///     Arc::new(FixedClock::new(Utc::now())),
    ///     Arc::new(UlidIds::new()),
    ///     Rules::default(),
    /// );
    /// let tokyo = service.with_rules(Rules {
    ///     timezone: chrono_tz::Asia::Tokyo,
    ///     ..*service.rules()
    /// });
    /// assert_eq!(tokyo.rules().timezone, chrono_tz::Asia::Tokyo);
    /// ```
    #[must_use]
    pub fn with_rules(&self, rules: Rules) -> Self {
        Self {
            rules,
            ..self.clone()
        }
    }

    fn load(&self, user_id: &str) -> Result<Subject, EvaluationError> {
        if !lookup_id(user_id) {
            return Err(EvaluationError::UnknownUser(user_id.to_owned()));
        }
        self.repo
            .load_subject(user_id)?
            .ok_or_else(|| EvaluationError::UnknownUser(user_id.to_owned()))
    }

    /// Decides, records the evaluation, and (when it fires and is not a dry
    /// run) enqueues its notification in the same transaction.
    ///
    /// # Errors
    /// [`EvaluationError::UnknownUser`]; [`EvaluationError::Store`].
    pub fn evaluate(&self, request: EvaluateRequest) -> Result<EvaluationRecord, EvaluationError> {
        let subject = self.load(&request.user_id)?;
        let now = truncate_to_seconds(self.clock.now());
        let decision = evaluate(&snapshot(&subject), &request.scenario, &self.rules, now);
        self.record_decision(&subject, decision, &request, now)
    }

    /// What evaluating `user_id` reads, for callers that decide themselves
    /// (the certification expiry job decides with `cert_expiry::check_mentor`).
    ///
    /// # Errors
    /// [`EvaluationError::UnknownUser`]; [`EvaluationError::Store`].
    pub fn load_subject(&self, user_id: &str) -> Result<Subject, EvaluationError> {
        self.load(user_id)
    }

    /// Records a decision made about `subject` at `now` and, when it fires
    /// and the request is not a dry run, enqueues its notification in the
    /// same transaction. A once-only key taken meanwhile by another writer
    /// turns the decision into `already_notified`.
    ///
    /// # Errors
    /// [`EvaluationError::Store`].
    pub fn record_decision(
        &self,
        subject: &Subject,
        decision: Decision<'_>,
        request: &EvaluateRequest,
        now: DateTime<Utc>,
    ) -> Result<EvaluationRecord, EvaluationError> {
        let target = Target {
            user_id: &request.user_id,
            org_id: &subject.record.mentor.org_id,
            run_id: request.run_id.as_deref(),
            batch_index: None,
            dry_run: request.dry_run,
        };
        let Rendered {
            record,
            notification,
            milestone_seen,
        } = render(&*self.ids, &target, &decision, now);
        match self
            .repo
            .record_evaluation(&record, notification.as_ref(), milestone_seen)
        {
            Ok(()) => Ok(record),
            // Another request enqueued the same once-only notification between
            // our read and our write: this decision is now a duplicate.
            Err(StoreError::Conflict(_)) if notification.is_some() => {
                let record =
                    evaluation_record(&*self.ids, &target, &already_notified(decision), now);
                self.repo.record_evaluation(&record, None, milestone_seen)?;
                Ok(record)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// "Now" as the services see it: the clock, truncated to seconds.
    pub fn now(&self) -> DateTime<Utc> {
        truncate_to_seconds(self.clock.now())
    }

    /// Decides without recording or enqueuing anything.
    ///
    /// # Errors
    /// [`EvaluationError::UnknownUser`]; [`EvaluationError::Store`].
    pub fn should_notify(
        &self,
        user_id: &str,
        scenario: Scenario,
    ) -> Result<ShouldNotify, EvaluationError> {
        let subject = self.load(user_id)?;
        let now = truncate_to_seconds(self.clock.now());
        let decision = evaluate(&snapshot(&subject), &scenario, &self.rules, now);
        Ok(ShouldNotify {
            user_id: user_id.to_owned(),
            scenario_type: decision.scenario_type,
            should_notify: decision.should_notify,
            cooldown_satisfied: decision.cooldown_satisfied,
            preference_enabled: decision.preference_enabled,
            evaluated_at: now,
            reason: decision.reason_sentence(),
            reason_code: decision.reason_code,
        })
    }

    /// One evaluation.
    ///
    /// # Errors
    /// [`EvaluationError::NotFound`].
    pub fn get(&self, id: &str) -> Result<EvaluationRecord, EvaluationError> {
        if !lookup_id(id) {
            return Err(EvaluationError::NotFound(id.to_owned()));
        }
        self.repo
            .get_evaluation(id)?
            .ok_or_else(|| EvaluationError::NotFound(id.to_owned()))
    }

    /// A page of evaluations, newest first.
    ///
    /// # Errors
    /// [`EvaluationError::Store`].
    pub fn list(
        &self,
        filter: &EvaluationFilter,
        page: PageRequest,
    ) -> Result<Paged<EvaluationRecord>, EvaluationError> {
        Ok(self.repo.list_evaluations(filter, page)?)
    }

    /// Overrides `should_notify` and/or replaces the metadata.
    ///
    /// # Errors
    /// [`EvaluationError::NotFound`].
    pub fn override_evaluation(
        &self,
        id: &str,
        change: &EvaluationOverride,
    ) -> Result<EvaluationRecord, EvaluationError> {
        if !lookup_id(id) {
            return Err(EvaluationError::NotFound(id.to_owned()));
        }
        let now = truncate_to_seconds(self.clock.now());
        self.repo
            .override_evaluation(id, change, now)?
            .ok_or_else(|| EvaluationError::NotFound(id.to_owned()))
    }

    /// Deletes an evaluation; its notification stays.
    ///
    /// # Errors
    /// [`EvaluationError::NotFound`].
    pub fn delete(&self, id: &str) -> Result<(), EvaluationError> {
        if !lookup_id(id) {
            return Err(EvaluationError::NotFound(id.to_owned()));
        }
        if self.repo.delete_evaluation(id)? {
            Ok(())
        } else {
            Err(EvaluationError::NotFound(id.to_owned()))
        }
    }
}
