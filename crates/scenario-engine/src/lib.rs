//! Pure decision rules for Mentor Scheduler (SPEC section 4).
//!
//! Given what is known about one mentor, a scenario and "now", [`evaluate`]
//! decides whether the mentor should be nudged, and why: an inactivity
//! reminder, a milestone congratulation or a certification-expiry reminder.
//! The checks run in a fixed order (status, the rule, preference, cooldown,
//! once-only dedupe) and the [`Decision`] reports each of them, with a
//! stable [`ReasonCode`] and the numbers behind it ([`Metadata`]).
//!
//! # What this crate refuses to know
//!
//! - **No database.** The caller gathers a borrowed [`MentorSnapshot`] from
//!   its own store; the notifications already sent reach the rules through
//!   the [`History`] trait ([`NoHistory`] and [`OwnedHistory`] ship here,
//!   `storage-diesel` implements its own).
//! - **No HTTP and no async.** Everything is a plain function.
//! - **No clock.** "Now" is an argument; nothing here calls `Utc::now()`.
//!
//! Deciding allocates nothing, so a run can make millions of decisions per
//! second. The sentence ([`Decision::reason_sentence`]), the JSON metadata
//! ([`Decision::metadata_json`]) and the stored dedupe key
//! ([`DedupeKey::render`]) are rendered at the edge, only for the decisions
//! that are kept.
//!
//! Day counts are calendar-day differences in the evaluation time zone
//! ([`calendar_days_between`]); the cooldown is elapsed time.
//!
//! # Embedding the engine
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use scenario_engine::{
//!     evaluate, Certification, DedupeKey, MentorSnapshot, MentorStatus, MilestoneType,
//!     NoHistory, OwnedHistory, Preferences, Rules, Scenario,
//! };
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 26, 9, 22, 0).unwrap();
//! let certifications = vec![Certification {
//!     certification_id: "cert_safety_003".to_owned(),
//!     name: "Child safety".to_owned(),
//!     issued_at: None,
//!     expires_at: Utc.with_ymd_and_hms(2026, 4, 25, 0, 0, 0).unwrap(),
//!     required: true,
//! }];
//! let mentor = MentorSnapshot {
//!     user_id: "usr_mentor_7821",
//!     status: MentorStatus::Active,
//!     created_at: Utc.with_ymd_and_hms(2025, 1, 10, 0, 0, 0).unwrap(),
//!     last_active_at: Some(Utc.with_ymd_and_hms(2026, 3, 17, 14, 22, 0).unwrap()),
//!     sessions_count: 12,
//!     first_session_at: Some(Utc.with_ymd_and_hms(2025, 2, 1, 17, 0, 0).unwrap()),
//!     milestones_achieved_at: [None; 4],
//!     certifications: &certifications,
//!     preferences: Preferences::default(),
//!     history: &NoHistory, // never notified
//! };
//! let rules = Rules::default(); // UTC, cooldown 3 days
//!
//! let decision = evaluate(&mentor, &Scenario::certification_expiry(None).unwrap(), &rules, now);
//! assert!(decision.should_notify);
//! println!("{}", decision.reason_sentence());
//! // Certification cert_safety_003 expires in 30 days (stage 30); lead time 30 days; cooldown 3 days satisfied
//!
//! // A milestone that was already congratulated does not fire again.
//! let mut history = OwnedHistory::new("usr_mentor_7821");
//! history.record(&DedupeKey::Milestone { milestone_type: MilestoneType::Sessions10 }, now);
//! let later = now + chrono::TimeDelta::days(30);
//! let mentor = MentorSnapshot { history: &history, ..mentor };
//! let decision = evaluate(&mentor, &Scenario::Milestone { milestone_type: MilestoneType::Sessions10 }, &rules, later);
//! assert!(!decision.should_notify);
//! assert_eq!(decision.reason_code.as_str(), "already_notified");
//! println!("{}", decision.reason_sentence()); // Milestone sessions_10 already notified
//! ```
#![warn(missing_docs)]

mod calendar;
mod decision;
mod evaluate;
mod mentor;
mod rules;
mod scenario;
mod snapshot;

pub use calendar::{calendar_days_between, format_instant};
pub use decision::{Decision, ExpiryFacts, Metadata, ReasonCode};
pub use evaluate::evaluate;
pub use mentor::{Certification, Mentor, MentorStatus, Pause, PauseReason, Preferences};
pub use rules::{
    COOLDOWN_DAYS_RANGE, DEFAULT_COOLDOWN_DAYS, DEFAULT_EXPIRY_STAGES, DEFAULT_LEAD_TIME_DAYS,
    DEFAULT_THRESHOLD_DAYS, LEAD_TIME_DAYS_RANGE, Rules, THRESHOLD_DAYS_RANGE,
};
pub use scenario::{MilestoneType, OutOfRange, Scenario, ScenarioType, UnknownName};
pub use snapshot::{DedupeKey, History, MentorSnapshot, NoHistory, OwnedHistory};
mod batch;
mod clock;
mod demo;
mod ids;
mod import;
mod memory;
mod outbox;
mod repo;
mod retry;
mod service;
mod window;
pub use batch::{
    BatchEvaluator, BatchIdsError, BatchReport, BatchRequest, BatchTotals, BatchUserResult,
    MAX_BATCH_USER_IDS, PreparedBatch, UNKNOWN_USER, check_batch_ids,
};
pub use clock::{Clock, FixedClock, SystemClock, truncate_to_seconds};
pub use demo::{DEMO_ORGS, MAX_DEMO_MENTORS, demo_mentor, demo_mentors, demo_user_id};
pub use ids::{
    EVALUATION_ID_PREFIX, IdSource, InvalidId, NOTIFICATION_ID_PREFIX, UlidIds, id_bounds_at,
    ulid_millis, validate_platform_id,
};
pub use import::{
    ImportCounts, ImportFeed, ImportLine, ImportOutcome, ImportSource, MAX_REPORTED_LINES,
    MentorImport, RejectedImport, SourceLine,
};
pub use memory::{InMemoryStore, StoredBatchDecision, StoredBatchResult, StoredNotification};
pub use outbox::{
    CLAIM_LAPSED_ERROR, Claim, ClaimRequest, Delivery, Notification, NotificationFilter, Outbox,
    OutboxError, OutboxService, Requeue, Settled,
};
pub use repo::{
    ActivityEvent, ActivityOutcome, BatchDecision, BatchEntry, BatchOutcome, BatchRepository,
    BatchWrite, Enqueue, EvaluationFilter, EvaluationOverride, EvaluationRecord,
    EvaluationRepository, MaybeMentor, MentorFilter, MentorRecord, MentorRepository, MentorUpsert,
    NewNotification, NotificationStatus, PageRequest, Paged, PreferencesPatch, SESSION_COMPLETED,
    StoreError, StoredDecision, Subject, json_text,
};
pub use retry::{
    AttemptResult, DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_RANGE, MAX_ERROR_CHARS, Outcome, RetryPolicy,
    error_text,
};
pub use service::{
    ActivityResult, EvaluateRequest, EvaluationError, EvaluationService, MentorError,
    MentorService, ShouldNotify, snapshot,
};
pub use window::{DeliveryWindow, InvalidWindow};
