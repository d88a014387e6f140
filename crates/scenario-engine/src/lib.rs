//! The decision rules of Mentor Scheduler (docs/rules.md), and the
//! services that record what they decide.
//!
//! Given what is known about one mentor, a scenario and "now", [`evaluate`]
//! decides whether the mentor should be nudged, and why: an inactivity
//! reminder, a milestone congratulation or a certification-expiry reminder.
//! The checks run in a fixed order (status, the rule, preference, cooldown,
//! once-only dedupe) and the [`Decision`](rules::Decision) reports each of
//! them, with a stable [`ReasonCode`](rules::ReasonCode) and the numbers
//! behind it.
//!
//! # Three layers
//!
//! - [`rules`]: the decision rules and the mentor model. Pure: no I/O, no
//!   clock, no ids, no state; "now" is an argument, and deciding allocates
//!   nothing, so a run can make millions of decisions per second. The
//!   sentence, the JSON metadata and the stored dedupe key are rendered at
//!   the edge, only for the decisions that are kept. Embedders that keep
//!   their own store need only this module.
//! - [`service`]: the services that validate, decide, and record a decision
//!   with its notification (mentors, evaluations, batches of a run, the
//!   outbox and its retries), and the ports they reach everything through:
//!   the repository traits for storage, [`Clock`](service::Clock) for time,
//!   [`IdSource`](service::IdSource) for ids. No database and no async:
//!   every call is a plain, blocking function.
//! - [`adapters`]: implementations of those ports that ship here. Not pure:
//!   [`SystemClock`](adapters::SystemClock) reads the wall clock (the one
//!   `Utc::now()` of the workspace), [`UlidIds`](adapters::UlidIds) makes
//!   ids from it, and [`InMemoryStore`](adapters::InMemoryStore) keeps every
//!   port in memory. The diesel store lives in `storage-diesel`.
//!
//! The engine's time types are chrono's; [`chrono`] and [`chrono_tz`] are
//! re-exported, so that an embedder uses the same versions.
//!
//! Day counts are calendar-day differences in the evaluation time zone
//! ([`calendar_days_between`](rules::calendar_days_between)); the cooldown
//! is elapsed time.
//!
//! # Embedding the rules
//!
//! ```
//! use scenario_engine::chrono::{TimeDelta, TimeZone, Utc};
//! use scenario_engine::evaluate;
//! use scenario_engine::rules::{
//!     Certification, DedupeKey, MentorSnapshot, MilestoneType, OwnedHistory, ReasonCode, Rules,
//!     Scenario,
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
//! // An active mentor with nothing recorded yet (never notified: `NoHistory`),
//! // and the facts this embedder knows.
//! let created = Utc.with_ymd_and_hms(2025, 1, 10, 0, 0, 0).unwrap();
//! let mentor = MentorSnapshot {
//!     last_active_at: Some(Utc.with_ymd_and_hms(2026, 3, 17, 14, 22, 0).unwrap()),
//!     sessions_count: 12,
//!     first_session_at: Some(Utc.with_ymd_and_hms(2025, 2, 1, 17, 0, 0).unwrap()),
//!     certifications: &certifications,
//!     ..MentorSnapshot::new("usr_mentor_7821", created)
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
//! let later = now + TimeDelta::days(30);
//! let mentor = MentorSnapshot { history: &history, ..mentor };
//! let decision = evaluate(&mentor, &Scenario::milestone("sessions_10").unwrap(), &rules, later);
//! assert!(!decision.should_notify);
//! assert_eq!(decision.reason_code, ReasonCode::AlreadyNotified);
//! println!("{}", decision.reason_sentence()); // Milestone sessions_10 already notified
//! ```
//!
//! `examples/embed.rs` runs the three scenarios and a cooldown the same way.
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod adapters;
pub mod rules;
pub mod service;

pub use chrono;
pub use chrono_tz;
pub use rules::evaluate;
